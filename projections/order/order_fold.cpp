#include <map>
#include <stdexcept>

#include "core/event_store.hpp"
#include "projections/order/order_projections.hpp"

namespace cqrs::projections::order {

namespace {

using hash = std::map<std::string, std::string>;
using hash_set = std::map<std::string, hash>;

// A stream's events through a projection's handlers into hashes in memory (the handlers write
// HSET only). Stored events are read from version 1: nothing is skipped.
template <typename Projection>
void fold_stream(core::event_store& store, const Projection& projection, const core::stream_id& stream,
                 hash_set& into) {
  constexpr std::size_t batch = 500;
  const auto done = store.for_each_stream_batch(stream, core::stream_version{1}, batch, [&](const core::stream_batch& b) {
    for (const auto& event : b.events) {
      for (const auto& op : projection.changes(event)) {
        if (op.command != "HSET") throw std::logic_error("an order handler wrote " + op.command);
        auto& fields = into[op.key];
        for (std::size_t i = 0; i + 1 < op.args.size(); i += 2) fields[op.args[i]] = op.args[i + 1];
      }
    }
  });
  if (!done.ok()) throw std::runtime_error("cannot read " + stream.str() + ": " + done.error().detail);
}

redis_reply as_reply(const hash& fields) {
  redis_reply reply{redis_reply::kind::array, 0, {}, {}};
  for (const auto& [name, value] : fields) {
    reply.elements.push_back({redis_reply::kind::text, 0, name, {}});
    reply.elements.push_back({redis_reply::kind::text, 0, value, {}});
  }
  return reply;
}

}  // namespace

std::optional<order_view> fold_order_view(core::event_store& store, const std::string& order_id,
                                          const std::string& order_category, const std::string& payment_category) {
  auto stream = core::stream_id::parse(order_category + "-" + order_id);
  if (!stream.ok()) return std::nullopt;
  hash_set orders;
  fold_stream(store, order_detail_projection(order_category), stream.value(), orders);
  const auto order = orders.find("order:" + order_id);
  if (order == orders.end()) return std::nullopt;
  hash payment;
  const auto payment_id = order->second.find("payment_id");
  if (payment_id != order->second.end()) {
    auto payment_stream = core::stream_id::parse(payment_category + "-" + payment_id->second);
    if (payment_stream.ok()) {
      hash_set payments;
      fold_stream(store, order_payment_projection(payment_category), payment_stream.value(), payments);
      payment = payments["payment:" + payment_id->second];
    }
  }
  redis_reply reply{redis_reply::kind::array, 0, {}, {as_reply(order->second), as_reply(payment)}};
  return decode_order_detail(reply);
}

std::optional<payment_view> fold_payment_view(core::event_store& store, const std::string& payment_id,
                                              const std::string& payment_category) {
  auto stream = core::stream_id::parse(payment_category + "-" + payment_id);
  if (!stream.ok()) return std::nullopt;
  hash_set payments;
  fold_stream(store, order_payment_projection(payment_category), stream.value(), payments);
  const auto found = payments.find("payment:" + payment_id);
  if (found == payments.end()) return std::nullopt;
  return detail::decode_payment(found->second);
}

}  // namespace cqrs::projections::order
