#include "gateway/redis_product_reads.hpp"

#include "projections/redis_target.hpp"

namespace cqrs::gateway {

namespace {

// Must stay the script of projections::read_product_detail: the pointer and the model read in one
// atomic step, so a rebuild's switch never shows a half-built or dropped model.
constexpr const char* read_detail_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('HGETALL', model .. ':product:' .. ARGV[2])
)lua";

}  // namespace

product_detail_reads::product_detail_reads(std::string projection)
    : script_(read_detail_script),
      pointer_key_(projections::redis_live_pointer_key(projection)),
      initial_model_(projections::product_detail_projection("product", std::move(projection)).info().initial_model()) {}

std::optional<projections::product_fields> product_detail_reads::decode(const projections::redis_reply& reply) {
  if (reply.elements.empty()) return std::nullopt;
  projections::product_fields fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields.emplace(reply.elements[i].text, reply.elements[i + 1].text);
  }
  return fields;
}

}  // namespace cqrs::gateway
