#include "commands/processes/order_fulfilment/order_fulfilment.hpp"

#include <map>
#include <utility>

#include <boost/json.hpp>

#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

namespace cqrs::commands::processes::order_fulfilment {

namespace {

namespace json = boost::json;
namespace s = cqrs::schemas;

constexpr std::string_view payment_deadline = "payment";
constexpr std::string_view deadline_passed = "payment deadline passed";

// What the saga knows of its order, stored as JSON in the process row.
struct saga {
  std::string order_id;
  std::string payment_id;
  std::string placed;         // the order.placed payload (its lines, for the stock effects)
  std::string card;           // from payment.requested
  std::int64_t amount = 0;    // minor units
  std::string currency;
  std::string order = "none";    // the order's status as the saga has seen it
  std::string stock = "none";    // none, reserving, reserved, refused, releasing, released, committing, committed
  std::string payment = "none";  // none, requested, charging, pending, authorized, captured, declined, failed, voided
  std::string charge_id;
  bool charge_asked = false;  // a charge was sent: one may exist at the provider
  std::string failure;        // why the payment failed
  std::map<std::string, std::int64_t> refunds;  // refund id -> amount, minor units

  static saga read(const std::string& text) {
    saga out;
    if (text.empty()) return out;
    const auto o = json::parse(text).as_object();
    const auto str = [&](const char* key) { return std::string(o.at(key).as_string()); };
    out = {str("order_id"), str("payment_id"), str("placed"), str("card"), o.at("amount").as_int64(),
           str("currency"), str("order"), str("stock"), str("payment"), str("charge_id"), o.at("charge_asked").as_bool(),
           str("failure"), {}};
    for (const auto& [id, amount] : o.at("refunds").as_object()) out.refunds[std::string(id)] = amount.as_int64();
    return out;
  }

  std::string write() const {
    json::object refunds_json;
    for (const auto& [id, value] : refunds) refunds_json[id] = value;
    return json::serialize(json::object{
        {"order_id", order_id}, {"payment_id", payment_id}, {"placed", placed}, {"card", card},
        {"amount", amount}, {"currency", currency}, {"order", order}, {"stock", stock}, {"payment", payment},
        {"charge_id", charge_id}, {"charge_asked", charge_asked}, {"failure", failure}, {"refunds", refunds_json}});
  }
};

bool order_open(const saga& g) { return g.order == "placed" || g.order == "stock_reserved"; }
// The payment deadline fired: the order is being expired and the charge reconciled, even while
// the order.expired event is still on its way to the saga. An authorization or a capture that
// arrives meanwhile must not be captured or committed: the reconciliation undoes it.
bool past_deadline(const saga& g) { return g.failure == deadline_passed; }
bool order_closed_unpaid(const saga& g) {
  return g.order == "expired" || g.order == "cancelled" || g.order == "rejected" || g.order == "payment_failed";
}

std::string id_of(const core::stream_id& stream) { return stream.str().substr(stream.category().size() + 1); }

core::stream_id order_stream(const saga& g) { return core::stream_id::trusted("order-" + g.order_id); }
core::stream_id payment_stream(const saga& g) { return core::stream_id::trusted("payment-" + g.payment_id); }

// Builds one reaction: commands and effects keyed once per process (a key asked for again is
// ignored by the store, so asking twice is harmless).
class planner {
 public:
  explicit planner(saga g) : g_(std::move(g)) {}

  saga& facts() { return g_; }

  void order_command(std::string key, const s::order_command& c) {
    out_.commands.push_back({std::move(key), order_stream(g_), s::encode(c)});
  }
  void payment_command(std::string key, const s::payment_command& c) {
    out_.commands.push_back({std::move(key), payment_stream(g_), s::encode(c)});
  }
  void effect(std::string key, std::string_view name, json::object payload, bool limited) {
    payload["order_id"] = g_.order_id;
    payload["payment_id"] = g_.payment_id;
    if (!payload.contains("amount")) {
      payload["amount"] = g_.amount;
      payload["currency"] = g_.currency;
    }
    out_.effects.push_back({std::move(key), std::string(name), json::serialize(payload), limited});
  }
  reaction& out() { return out_; }

  // What follows from the facts: the saga's one decision table.
  reaction finish() {
    advance();
    out_.state = g_.write();
    out_.step = step();
    out_.finished = g_.order == "paid" || g_.order == "delivered" || g_.order == "refunded" ||
                    (order_closed_unpaid(g_) && g_.stock != "reserved" && g_.stock != "releasing");
    return std::move(out_);
  }

 private:
  void advance() {
    advance_stock();
    advance_payment();
  }

  void advance_stock() {
    if (!g_.placed.empty() && g_.stock == "none" && g_.order == "placed") {
      g_.stock = "reserving";
      effect("reserve", effect::reserve, {{"placed", g_.placed}}, true);
    }
    if (g_.stock == "reserved" && (order_closed_unpaid(g_) || g_.payment == "declined" || g_.payment == "failed")) {
      g_.stock = "releasing";
      effect("release", effect::release, {{"placed", g_.placed}}, true);
    }
    if (g_.stock == "reserved" && g_.payment == "captured" && order_open(g_) && !past_deadline(g_)) {
      g_.stock = "committing";
      effect("commit", effect::commit, {{"placed", g_.placed}}, true);
    }
  }

  void advance_payment() {
    if (g_.order == "stock_reserved" && g_.payment == "requested" && !g_.card.empty()) {
      g_.payment = "charging";
      g_.charge_asked = true;
      effect("charge", effect::charge, {{"card", g_.card}}, false);
    }
  }

  std::string step() const {
    if (g_.order == "placed") return g_.stock == "reserving" ? "reserving_stock" : "placed";
    if (g_.order == "stock_reserved") {
      if (g_.payment == "none" || g_.payment == "requested") return "awaiting_payment_request";
      if (g_.payment == "charging") return "charging";
      if (g_.payment == "pending") return "awaiting_provider";
      if (g_.payment == "authorized") return "capturing";
      if (g_.payment == "captured") return "committing_stock";
      return "failing_payment";
    }
    if (order_closed_unpaid(g_) && g_.stock == "releasing") return "releasing_stock";
    return g_.order;
  }

  saga g_;
  reaction out_;
};

s::money money_of(const json::object& o) {
  return s::money{o.at("amount").as_int64(), s::currency_code(std::string(o.at("currency").as_string()))};
}

// The facts an order event adds, and what they ask for beyond the decision table.
void on_order_event(planner& p, const s::order_event& e, std::chrono::milliseconds timeout) {
  auto& g = p.facts();
  std::visit(
      [&](const auto& event) {
        using T = std::decay_t<decltype(event)>;
        if constexpr (std::is_same_v<T, s::order_placed>) {
          g.placed = s::encode(s::order_event{event}).data;
          g.payment_id = event.payment.value();
          g.amount = event.total.amount_minor;
          g.currency = event.total.currency.value();
          if (g.order == "none") g.order = "placed";
          p.out().aliases.push_back("payment:" + g.payment_id);
          p.out().set_deadlines.push_back({std::string(payment_deadline), timeout});
        } else if constexpr (std::is_same_v<T, s::order_stock_reserved>) {
          g.order = "stock_reserved";
        } else if constexpr (std::is_same_v<T, s::order_rejected>) {
          g.order = "rejected";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
          if (g.payment == "requested") p.payment_command("fail_payment", s::fail_payment{"order rejected: " + event.reason});
        } else if constexpr (std::is_same_v<T, s::order_paid>) {
          g.order = "paid";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
        } else if constexpr (std::is_same_v<T, s::order_payment_failed>) {
          g.order = "payment_failed";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
        } else if constexpr (std::is_same_v<T, s::order_expired>) {
          g.order = "expired";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
        } else if constexpr (std::is_same_v<T, s::order_cancelled>) {
          g.order = "cancelled";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
          if (event.refund_needed) {
            g.refunds["cancel"] = g.amount;
            p.effect("refund:cancel", effect::refund,
                     {{"charge_id", g.charge_id}, {"refund_id", "cancel"}, {"amount", g.amount}, {"currency", g.currency}},
                     true);
          } else if (g.payment == "authorized") {
            p.effect("void", effect::void_charge, {{"charge_id", g.charge_id}}, true);
          } else if (g.payment == "requested" || g.payment == "charging" || g.payment == "pending") {
            p.out().cancel_effects.push_back("charge");
            p.payment_command("fail_payment", s::fail_payment{"order cancelled"});
            if (g.charge_asked) p.effect("reconcile", effect::reconcile, {}, true);
          }
        } else if constexpr (std::is_same_v<T, s::order_refund_requested>) {
          const auto& id = event.refund.value();
          g.refunds[id] = event.amount.amount_minor;
          p.effect("refund:" + id, effect::refund,
                   {{"charge_id", g.charge_id}, {"refund_id", id}, {"amount", event.amount.amount_minor},
                    {"currency", event.amount.currency.value()}},
                   true);
        } else if constexpr (std::is_same_v<T, s::order_shipped>) {
          g.order = "shipped";
        } else if constexpr (std::is_same_v<T, s::order_delivered>) {
          g.order = "delivered";
        }
      },
      e);
}

void on_payment_event(planner& p, const s::payment_event& e) {
  auto& g = p.facts();
  std::visit(
      [&](const auto& event) {
        using T = std::decay_t<decltype(event)>;
        if constexpr (std::is_same_v<T, s::payment_requested>) {
          g.card = event.card.value();
          if (g.amount == 0) {
            g.amount = event.amount.amount_minor;
            g.currency = event.amount.currency.value();
          }
          if (g.payment == "none") g.payment = "requested";
        } else if constexpr (std::is_same_v<T, s::payment_pending>) {
          g.payment = "pending";
          g.charge_id = event.charge.value();
        } else if constexpr (std::is_same_v<T, s::payment_authorized>) {
          g.payment = "authorized";
          g.charge_id = event.charge.value();
          if (past_deadline(g)) {
            // The deadline's reconciliation voids it (a capture now would be refused once voided).
          } else if (order_open(g)) {
            p.effect("capture", effect::capture, {{"charge_id", g.charge_id}}, false);
          } else {
            p.effect("void", effect::void_charge, {{"charge_id", g.charge_id}}, true);
          }
        } else if constexpr (std::is_same_v<T, s::payment_captured>) {
          g.payment = "captured";
          p.out().clear_deadlines.push_back(std::string(payment_deadline));
          if (!order_open(g)) p.effect("reconcile", effect::reconcile, {}, true);
        } else if constexpr (std::is_same_v<T, s::payment_declined>) {
          g.payment = "declined";
          if (!past_deadline(g)) g.failure = "declined: " + event.reason;
        } else if constexpr (std::is_same_v<T, s::payment_failed>) {
          g.payment = "failed";
          if (g.failure.empty()) g.failure = event.reason;
        } else if constexpr (std::is_same_v<T, s::payment_voided>) {
          g.payment = "voided";
        }
      },
      e);
}

// A charge's answer: "<status>:<charge id or decline code>".
void on_charge_answer(planner& p, const std::string& answer) {
  auto& g = p.facts();
  const auto colon = answer.find(':');
  const auto status = answer.substr(0, colon);
  const auto value = colon == std::string::npos ? std::string() : answer.substr(colon + 1);
  if (status == "authorized" || status == "captured") {
    p.payment_command("authorize", s::authorize_payment{s::charge_id(value)});
    if (status == "captured") p.payment_command("capture_payment", s::capture_payment{});
  } else if (status == "pending") {
    p.payment_command("mark_pending", s::mark_payment_pending{s::charge_id(value)});
  } else if (status == "declined") {
    p.payment_command("decline", s::decline_payment{value.empty() ? std::string("declined") : value});
  }
  g.charge_id = status == "declined" ? g.charge_id : value;
}

void on_stock_answer(planner& p, const effect_outcome& done) {
  auto& g = p.facts();
  if (done.name == effect::reserve) {
    if (done.result == "done") {
      g.stock = "reserved";
      if (g.order == "placed") p.order_command("mark_stock_reserved", s::mark_order_stock_reserved{});
    } else {
      g.stock = "refused";
      if (g.order == "placed") p.order_command("reject", s::reject_order{done.result});
    }
  } else if (done.name == effect::release) {
    g.stock = "released";
    // A payment failed by the deadline belongs to an order the deadline expires.
    if (g.order == "stock_reserved" && (g.payment == "declined" || g.payment == "failed") && g.failure != deadline_passed) {
      p.order_command("mark_payment_failed", s::mark_order_payment_failed{g.failure.empty() ? "payment failed" : g.failure});
    }
  } else if (done.name == effect::commit) {
    g.stock = "committed";
    if (order_open(g)) p.order_command("mark_paid", s::mark_order_paid{});
  }
}

void on_refund_answer(planner& p, const effect_outcome& done) {
  const auto payload = json::parse(done.payload).as_object();
  const std::string id(payload.at("refund_id").as_string());
  const auto amount = money_of(payload);
  p.payment_command("refund_payment:" + id, s::refund_payment{s::refund_id(id), amount});
  p.order_command("record_refund:" + id, s::record_order_refund{s::refund_id(id), amount});
}

}  // namespace

order_fulfilment::order_fulfilment(std::chrono::milliseconds payment_timeout) : payment_timeout_(payment_timeout) {}

std::optional<route> order_fulfilment::route_of(const core::recorded_event& event) const {
  const auto category = event.stream.category();
  if (category == "order") return route{id_of(event.stream), event.type == s::order_placed::type_name, false};
  if (category != "payment") return std::nullopt;
  if (event.type == s::payment_requested::type_name) {
    const auto requested = std::get<s::payment_requested>(s::decode_payment_event(event.type, event.schema_version, event.payload));
    return route{requested.order.value(), true, false};
  }
  return route{"payment:" + id_of(event.stream), false, true};
}

std::optional<reaction> order_fulfilment::on_event(const std::optional<instance_view>& current,
                                                   const core::recorded_event& event) const {
  planner p(saga::read(current ? current->state : std::string()));
  auto& g = p.facts();
  if (event.stream.category() == "order") {
    g.order_id = id_of(event.stream);
    on_order_event(p, s::decode_order_event(event.type, event.schema_version, event.payload), payment_timeout_);
  } else {
    const auto decoded = s::decode_payment_event(event.type, event.schema_version, event.payload);
    if (const auto* requested = std::get_if<s::payment_requested>(&decoded)) {
      g.order_id = requested->order.value();
      g.payment_id = id_of(event.stream);
      p.out().aliases.push_back("payment:" + g.payment_id);
    }
    on_payment_event(p, decoded);
  }
  return p.finish();
}

std::optional<reaction> order_fulfilment::on_deadline(const instance_view& current, std::string_view name) const {
  planner p(saga::read(current.state));
  auto& g = p.facts();
  if (name != payment_deadline || !order_open(g) || g.payment == "captured") return std::nullopt;
  // Only a definitive answer or this deadline fails a payment: stop charging, expire the order,
  // fail the payment, and look for a charge that may exist after all.
  p.out().cancel_effects = {"charge", "capture"};
  g.failure = deadline_passed;
  p.order_command("expire", s::expire_order{});
  if (g.payment != "none" && g.payment != "declined" && g.payment != "failed") {
    p.payment_command("fail_payment", s::fail_payment{std::string(deadline_passed)});
  }
  // The stock is given back first: a process's actions run in order, and the reconciliation needs
  // the card processor, which may not answer for a while.
  if (g.stock == "reserved") {
    g.stock = "releasing";
    p.effect("release", effect::release, {{"placed", g.placed}}, true);
  }
  if (g.charge_asked) p.effect("reconcile", effect::reconcile, {}, true);
  return p.finish();
}

std::optional<reaction> order_fulfilment::on_effect(const instance_view& current, const effect_outcome& done) const {
  planner p(saga::read(current.state));
  if (done.name == effect::charge) {
    on_charge_answer(p, done.result);
  } else if (done.name == effect::capture) {
    p.payment_command("capture_payment", s::capture_payment{});
  } else if (done.name == effect::void_charge) {
    p.payment_command("void_payment", s::void_payment{});
  } else if (done.name == effect::refund) {
    on_refund_answer(p, done);
  } else if (done.name != effect::reconcile) {
    on_stock_answer(p, done);
  }
  return p.finish();
}

}  // namespace cqrs::commands::processes::order_fulfilment
