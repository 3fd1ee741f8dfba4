#include <charconv>
#include <variant>

#include <boost/json.hpp>

#include "projections/history.hpp"
#include "projections/order/order_projections.hpp"
#include "projections/redis_target.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

namespace cqrs::projections::order {

namespace detail {

std::string id_of(const core::stream_id& stream) {
  const auto& text = stream.str();
  return text.substr(text.find('-') + 1);
}

namespace {

[[noreturn]] void poison(const core::recorded_event& event, const std::exception& e) {
  throw handler_error(event, event.type + " at " + event.stream.str() + " v" + std::to_string(event.version.value()) +
                                 ": " + e.what());
}

}  // namespace

std::optional<schemas::order_event> decode_if_order(const core::recorded_event& event) {
  if (!schemas::is_order_event(event.type, event.schema_version)) return std::nullopt;
  try {
    return schemas::decode_order_event(event.type, event.schema_version, event.payload);
  } catch (const std::exception& e) {
    poison(event, e);
  }
}

std::optional<schemas::payment_event> decode_if_payment(const core::recorded_event& event) {
  if (!schemas::is_payment_event(event.type, event.schema_version)) return std::nullopt;
  try {
    return schemas::decode_payment_event(event.type, event.schema_version, event.payload);
  } catch (const std::exception& e) {
    poison(event, e);
  }
}

namespace {

// One status per event type; a refund request leaves the status as it was.
struct status_of {
  std::optional<std::string_view> operator()(const schemas::order_placed&) const { return "placed"; }
  std::optional<std::string_view> operator()(const schemas::order_stock_reserved&) const { return "stock_reserved"; }
  std::optional<std::string_view> operator()(const schemas::order_rejected&) const { return "rejected"; }
  std::optional<std::string_view> operator()(const schemas::order_paid&) const { return "paid"; }
  std::optional<std::string_view> operator()(const schemas::order_payment_failed&) const { return "payment_failed"; }
  std::optional<std::string_view> operator()(const schemas::order_expired&) const { return "expired"; }
  std::optional<std::string_view> operator()(const schemas::order_cancelled&) const { return "cancelled"; }
  std::optional<std::string_view> operator()(const schemas::order_shipped&) const { return "shipped"; }
  std::optional<std::string_view> operator()(const schemas::order_delivered&) const { return "delivered"; }
  std::optional<std::string_view> operator()(const schemas::order_refund_requested&) const { return std::nullopt; }
  std::optional<std::string_view> operator()(const schemas::order_refunded& e) const {
    return e.full ? "refunded" : "partially_refunded";
  }
};

}  // namespace

std::optional<std::string_view> status_after(const schemas::order_event& event) { return std::visit(status_of{}, event); }

std::string lines_json(const std::vector<schemas::order_line>& lines) {
  boost::json::array out;
  for (const auto& line : lines) {
    out.push_back(boost::json::object{
        {"product_id", line.product.value()},
        {"quantity", line.units.value()},
        {"unit_price", {{"amount", line.unit_price.amount_minor}, {"currency", line.unit_price.currency.value()}}}});
  }
  return boost::json::serialize(out);
}

}  // namespace detail

const std::vector<std::string_view>& order_statuses() {
  static const std::vector<std::string_view> statuses{
      "placed",  "stock_reserved", "paid",      "shipped",  "delivered",         "rejected",
      "payment_failed", "expired", "cancelled", "refunded", "partially_refunded"};
  return statuses;
}

namespace {

using op_list = std::vector<redis_op>;

op_list order_changes(const std::string& key, const core::recorded_event& event, const schemas::order_event& decoded) {
  const auto at = format_timestamp(event.recorded_at);
  std::vector<std::string> args{"version", std::to_string(event.version.value()), "updated_at", at};
  if (const auto* placed = std::get_if<schemas::order_placed>(&decoded)) {
    const std::vector<std::string> more{"id",          detail::id_of(event.stream),
                                        "customer_id", placed->customer.value(),
                                        "lines",       detail::lines_json(placed->lines),
                                        "total_minor", std::to_string(placed->total.amount_minor),
                                        "currency",    placed->total.currency.value(),
                                        "payment_id",  placed->payment.value(),
                                        "created_at",  at};
    args.insert(args.end(), more.begin(), more.end());
  }
  if (const auto status = detail::status_after(decoded)) {
    args.emplace_back("status");
    args.emplace_back(*status);
  }
  return {{"HSET", key, std::move(args)}};
}

struct payment_ops {
  std::string key;

  op_list status(std::string_view s) const { return {{"HSET", key, {"status", std::string(s)}}}; }
  op_list operator()(const schemas::payment_requested& e) const {
    return {{"HSET", key,
             {"order_id", e.order.value(), "amount_minor", std::to_string(e.amount.amount_minor), "currency",
              e.amount.currency.value(), "status", "requested", "captured_minor", "0", "refunded_minor", "0"}}};
  }
  // Pending at the provider is still `requested` to the customer.
  op_list operator()(const schemas::payment_pending&) const { return status("requested"); }
  op_list operator()(const schemas::payment_authorized&) const { return status("authorized"); }
  op_list operator()(const schemas::payment_captured& e) const {
    return {{"HSET", key, {"status", "captured", "captured_minor", std::to_string(e.amount.amount_minor)}}};
  }
  op_list operator()(const schemas::payment_declined&) const { return status("declined"); }
  op_list operator()(const schemas::payment_failed&) const { return status("failed"); }
  op_list operator()(const schemas::payment_voided&) const { return status("voided"); }
  op_list operator()(const schemas::payment_refunded& e) const {
    return {{"HSET", key, {"refunded_minor", std::to_string(e.refunded_total.amount_minor)}}};
  }
};

// Reads both pointers and both hashes in one script: never a dropped or half-switched model.
constexpr const char* read_detail_script = R"lua(
local order_model = redis.call('GET', KEYS[1]) or ARGV[1]
local order = redis.call('HGETALL', order_model .. ':order:' .. ARGV[3])
local payment = {}
for i = 1, #order, 2 do
  if order[i] == 'payment_id' then
    local payment_model = redis.call('GET', KEYS[2]) or ARGV[2]
    payment = redis.call('HGETALL', payment_model .. ':payment:' .. order[i + 1])
  end
end
return {order, payment}
)lua";

using field_map = std::map<std::string, std::string>;

field_map fields_of(const redis_reply& reply) {
  field_map fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].text] = reply.elements[i + 1].text;
  }
  return fields;
}

std::optional<std::int64_t> number(const field_map& f, const char* name) {
  const auto found = f.find(name);
  if (found == f.end() || found->second.empty()) return std::nullopt;
  std::int64_t value = 0;
  const auto& text = found->second;
  const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (failure != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

const std::string* text(const field_map& f, const char* name) {
  const auto found = f.find(name);
  return found == f.end() ? nullptr : &found->second;
}

std::optional<std::string> payment_of(const field_map& p) {
  const auto payment = detail::decode_payment(p);
  if (!payment) return std::nullopt;
  return payment->status;
}

}  // namespace

namespace detail {

std::optional<payment_view> decode_payment(const std::map<std::string, std::string>& p) {
  const auto amount = number(p, "amount_minor");
  const auto captured = number(p, "captured_minor");
  const auto refunded = number(p, "refunded_minor");
  const auto version = number(p, "version");
  const char* names[] = {"id", "order_id", "currency", "status"};
  for (const auto* name : names) {
    if (text(p, name) == nullptr) return std::nullopt;
  }
  if (!amount || !captured || !refunded || !version) return std::nullopt;
  return payment_view{*text(p, "id"),  *text(p, "order_id"), *amount, *text(p, "currency"),
                      payment_status(*text(p, "status"), *captured, *refunded), *refunded, *version};
}

}  // namespace detail

std::string payment_status(std::string_view stored, std::int64_t captured_minor, std::int64_t refunded_minor) {
  if (stored == "captured" && captured_minor > 0 && refunded_minor >= captured_minor) return "refunded";
  return std::string(stored);
}

order_detail_projection::order_detail_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::redis} {}

std::vector<redis_op> order_detail_projection::changes(const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_order(event);
  if (!decoded) return {};
  return order_changes("order:" + detail::id_of(event.stream), event, *decoded);
}

order_payment_projection::order_payment_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::redis} {}

std::vector<redis_op> order_payment_projection::changes(const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_payment(event);
  if (!decoded) return {};
  const auto id = detail::id_of(event.stream);
  const std::string key = "payment:" + id;
  auto ops = std::visit(payment_ops{key}, *decoded);
  ops.push_back({"HSET", key, {"id", id, "version", std::to_string(event.version.value())}});
  return ops;
}

order_detail_read order_detail_read_for(const std::string& order_id, const std::string& order_projection,
                                        const std::string& payment_projection) {
  const order_detail_projection o("order", order_projection);
  const order_payment_projection p("payment", payment_projection);
  return {read_detail_script,
          {redis_live_pointer_key(order_projection), redis_live_pointer_key(payment_projection)},
          {o.info().initial_model(), p.info().initial_model(), order_id}};
}

std::optional<order_view> decode_order_detail(const redis_reply& reply) {
  if (reply.elements.size() != 2) return std::nullopt;
  const auto o = fields_of(reply.elements[0]);
  const auto total = number(o, "total_minor");
  const auto version = number(o, "version");
  const char* names[] = {"id", "customer_id", "lines", "currency", "status", "payment_id", "created_at", "updated_at"};
  for (const auto* name : names) {
    if (text(o, name) == nullptr) return std::nullopt;
  }
  if (!total || !version) return std::nullopt;
  return order_view{*text(o, "id"),         *text(o, "customer_id"), *text(o, "lines"),
                    *total,                 *text(o, "currency"),    *text(o, "status"),
                    *text(o, "payment_id"), payment_of(fields_of(reply.elements[1])),
                    *text(o, "created_at"), *text(o, "updated_at"),  *version};
}

std::optional<order_view> read_order_detail(redis_client& client, const std::string& order_id,
                                            const std::string& order_projection,
                                            const std::string& payment_projection) {
  const auto read = order_detail_read_for(order_id, order_projection, payment_projection);
  return decode_order_detail(client.evaluate(std::string(read.script), read.keys, read.args));
}

}  // namespace cqrs::projections::order
