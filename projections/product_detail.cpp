#include <type_traits>

#include "projections/product_projections.hpp"
#include "projections/redis_target.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product_codec.hpp"

namespace cqrs::projections {

namespace detail {

std::string entity_id(const core::stream_id& stream) {
  const auto& text = stream.str();
  return text.substr(text.find('-') + 1);
}

std::optional<schemas::product_event> decode_if_product(const core::recorded_event& event) {
  if (!schemas::is_product_event(event.type, event.schema_version)) return std::nullopt;
  try {
    return schemas::decode_product_event(event.type, event.schema_version, event.payload);
  } catch (const std::exception& e) {
    throw handler_error(event, event.type + " at " + event.stream.str() + " v" + std::to_string(event.version.value()) +
                                   ": " + e.what());
  }
}

}  // namespace detail

namespace {

using op_list = std::vector<redis_op>;

struct detail_ops {
  std::string key;

  op_list operator()(const schemas::product_created& e) const {
    const auto stock = std::to_string(e.initial_stock);
    return {{"HSET",
             key,
             {"sku", e.code.value(), "name", e.name, "description", e.description, "price_minor",
              std::to_string(e.price.amount_minor), "currency", e.price.currency.value(), "on_hand", stock, "reserved",
              "0", "available", stock, "discontinued", "0"}},
            {"SET", "sku:" + e.code.value(), {key.substr(key.find(':') + 1)}}};
  }
  op_list operator()(const schemas::product_details_updated& e) const {
    return {{"HSET", key, {"name", e.name, "description", e.description}}};
  }
  op_list operator()(const schemas::product_price_changed& e) const {
    return {{"HSET", key, {"price_minor", std::to_string(e.price.amount_minor), "currency", e.price.currency.value()}}};
  }
  op_list operator()(const schemas::product_restocked& e) const { return add(e.added.value(), 0); }
  op_list operator()(const schemas::stock_reserved& e) const { return add(0, e.reserved.value()); }
  op_list operator()(const schemas::reservation_released& e) const { return add(0, -e.released.value()); }
  op_list operator()(const schemas::reservation_committed& e) const {
    return add(-e.committed.value(), -e.committed.value());
  }
  op_list operator()(const schemas::product_discontinued&) const { return {{"HSET", key, {"discontinued", "1"}}}; }

  // Stock moves as increments, so applying them needs no read of the current hash.
  op_list add(std::int64_t on_hand, std::int64_t reserved) const {
    return {{"HINCRBY", key, {"on_hand", std::to_string(on_hand)}},
            {"HINCRBY", key, {"reserved", std::to_string(reserved)}},
            {"HINCRBY", key, {"available", std::to_string(on_hand - reserved)}}};
  }
};

// Reads the pointer and the model in one script: never a dropped or half-switched model.
constexpr const char* read_detail_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('HGETALL', model .. ':product:' .. ARGV[2])
)lua";

constexpr const char* read_sku_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('GET', model .. ':sku:' .. ARGV[2])
)lua";

}  // namespace

product_detail_projection::product_detail_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::redis} {}

std::vector<redis_op> product_detail_projection::changes(const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_product(event);
  if (!decoded) return {};
  const std::string key = "product:" + detail::entity_id(event.stream);
  auto ops = std::visit(detail_ops{key}, *decoded);
  ops.push_back(
      {"HSET", key, {"id", detail::entity_id(event.stream), "version", std::to_string(event.version.value())}});
  return ops;
}

std::optional<product_fields> read_product_detail(redis_client& client, const std::string& product_id,
                                                  const std::string& projection) {
  const product_detail_projection p("product", projection);
  const auto reply = client.checked(
      {"EVAL", read_detail_script, "1", redis_live_pointer_key(projection), p.info().initial_model(), product_id});
  if (reply.elements.empty()) return std::nullopt;
  product_fields fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].text] = reply.elements[i + 1].text;
  }
  return fields;
}

std::optional<std::string> find_product_id_by_sku(redis_client& client, const std::string& sku,
                                                  const std::string& projection) {
  const product_detail_projection p("product", projection);
  const auto reply =
      client.checked({"EVAL", read_sku_script, "1", redis_live_pointer_key(projection), p.info().initial_model(), sku});
  if (reply.type == redis_reply::kind::nil) return std::nullopt;
  return reply.text;
}

}  // namespace cqrs::projections
