#include "projections/read_your_writes.hpp"

#include <pqxx/pqxx>

namespace cqrs::projections {

bool has_applied_through(pqxx::transaction_base& tx, const read_your_writes_source& source,
                         core::log_position position) {
  const auto rows = tx.exec_params(
      "WITH relay AS (SELECT updated_at FROM relay_checkpoints WHERE relay_name = $2 AND topic = $3 "
      "  AND (xid > $4::text::xid8 OR (xid = $4::text::xid8 AND seq >= $5))) "
      "SELECT count(*) FROM projection_checkpoints c, relay r WHERE c.projection = $1 "
      "  AND (c.log_position >= $6 OR c.caught_up_as_of >= r.updated_at)",
      source.projection, source.relay_name, source.topic, std::to_string(position.xid()),
      static_cast<std::int64_t>(position.seq()), position.token());
  return source.partitions > 0 && rows[0][0].as<int>() >= source.partitions;
}

}  // namespace cqrs::projections
