#include "commands/processes/order_fulfilment/fulfilment_effects.hpp"

#include <string>
#include <utility>

#include <boost/json.hpp>

#include "commands/processes/command_sender.hpp"
#include "commands/processes/order_fulfilment/order_fulfilment.hpp"
#include "commands/product/batch_reservation.hpp"
#include "schemas/contracts/order/order_codec.hpp"

namespace cqrs::commands::processes::order_fulfilment {

namespace {

namespace json = boost::json;
namespace s = cqrs::schemas;

std::string text(const json::object& o, const char* key) {
  const auto* value = o.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

s::money money_of(const json::object& o) {
  return s::money{o.at("amount").as_int64(), s::currency_code(text(o, "currency"))};
}

action_result from_transient(const payment_provider::transient& t) {
  if (t.not_permitted) {
    const auto wait = t.refused ? t.refused->retry_after : std::chrono::milliseconds{1000};
    return action_parked{t.why, std::max(wait, std::chrono::milliseconds{100})};
  }
  return action_transient{t.why};
}

std::string answer_text(const payment_provider::charge_answer& a) {
  if (a.status == payment_provider::charge_status::declined) return "declined:" + a.decline_code;
  return std::string(payment_provider::to_string(a.status)) + ":" + a.charge_id;
}

// What is left to refund of a captured charge: its amount less what its refunds (ours or anyone's,
// e.g. an operator's at the processor) already returned. A refund of more is refused by the
// processor (amount_too_large) and would leave the process stuck. `asked` is the payment's own
// amount, for an answer that omits the charge's.
s::money refundable(const payment_provider::charge_answer& charge, const s::money& asked) {
  const auto amount = charge.amount_minor > 0 ? charge.amount_minor : asked.amount_minor;
  return s::money{amount - charge.refunded_minor, asked.currency};
}

class performer final : public effect_performer {
 public:
  explicit performer(payment_provider::provider_client& client) : client_(client) {}

  action_result perform(const effect_call& call, core::event_store& store) override {
    const auto payload = json::parse(call.payload).as_object();
    try {
      if (call.name.starts_with("stock.")) return stock(call, payload, store);
      return provider_call(call, payload);
    } catch (const payment_provider::provider_refused& e) {
      return action_refused{std::string("the payment provider refused the request: ") + e.what()};
    }
  }

 private:
  action_result stock(const effect_call& call, const json::object& payload, core::event_store& store) {
    const auto placed = std::get<s::order_placed>(s::decode_order_event("order.placed", 1, text(payload, "placed")));
    const auto reservation = product::reservation_for(s::order_id(text(payload, "order_id")));
    const command_context context{{}, call.correlation_id, call.causation_id, std::string(runtime_actor), {}, {}};
    product::batch_reservation batch(store);
    const auto outcome = call.name == effect::reserve   ? batch.reserve_all(placed.lines, reservation, context)
                         : call.name == effect::release ? batch.release_all(placed.lines, reservation, context)
                                                        : batch.commit_all(placed.lines, reservation, context);
    if (std::holds_alternative<product::batch_done>(outcome)) return action_done{"done"};
    if (const auto* refused = std::get_if<product::batch_refused>(&outcome)) {
      return action_done{std::string(product::to_string(refused->reason.code)) + " (" + refused->product.value() + ")"};
    }
    if (const auto* busy = std::get_if<product::batch_contended>(&outcome)) {
      return action_transient{"products contended after " + std::to_string(busy->attempts) + " attempts"};
    }
    return action_refused{"invalid reservation: " + std::get<invalid_request>(outcome).why.detail};
  }

  action_result provider_call(const effect_call& call, const json::object& payload) {
    const auto payment = text(payload, "payment_id");
    const auto charge = text(payload, "charge_id");
    if (call.name == effect::reconcile) return reconcile(payment, payload);
    payment_provider::call_result result;
    if (call.name == effect::charge) {
      result = client_.charge(payment, money_of(payload), text(payload, "card"), payment_provider::charge_key(payment));
    } else if (call.name == effect::capture) {
      result = client_.capture(payment, charge, payment_provider::capture_key(payment));
    } else if (call.name == effect::void_charge) {
      result = client_.void_charge(payment, charge, payment_provider::void_key(payment));
    } else if (call.name == effect::refund) {
      const auto refund = text(payload, "refund_id");
      result = client_.refund(payment, charge, refund, money_of(payload), payment_provider::refund_key(payment, refund));
    } else {
      return action_refused{"unknown effect " + call.name};
    }
    if (const auto* t = std::get_if<payment_provider::transient>(&result)) return from_transient(*t);
    return action_done{answer_text(std::get<payment_provider::charge_answer>(result))};
  }

  // A failed payment never keeps a charge: whatever was made under the charge's key is undone (an
  // authorization voided, what remains of a capture refunded; a charge already wholly refunded is
  // settled). A retry after a lost refund answer finds the charge refunded and is settled too.
  action_result reconcile(const std::string& payment, const json::object& payload) {
    const auto found = client_.find_charge(payment_provider::charge_key(payment));
    if (const auto* t = std::get_if<payment_provider::transient>(&found)) return from_transient(*t);
    const auto& charge = std::get<std::optional<payment_provider::charge_answer>>(found);
    if (!charge) return action_done{"none"};
    payment_provider::call_result undone;
    switch (charge->status) {
      case payment_provider::charge_status::pending: return action_transient{"the charge is still pending at the provider"};
      case payment_provider::charge_status::authorized:
        undone = client_.void_charge(payment, charge->charge_id, payment_provider::void_key(payment));
        break;
      case payment_provider::charge_status::captured:
      case payment_provider::charge_status::partially_refunded: {
        const auto remaining = refundable(*charge, money_of(payload));
        if (remaining.amount_minor <= 0) return action_done{"settled:" + answer_text(*charge)};
        undone = client_.refund(payment, charge->charge_id, "reconcile", remaining,
                                payment_provider::refund_key(payment, "reconcile"));
        break;
      }
      case payment_provider::charge_status::declined:
      case payment_provider::charge_status::voided:
      case payment_provider::charge_status::refunded: return action_done{"settled:" + answer_text(*charge)};
    }
    if (const auto* t = std::get_if<payment_provider::transient>(&undone)) return from_transient(*t);
    return action_done{"undone:" + answer_text(std::get<payment_provider::charge_answer>(undone))};
  }

  payment_provider::provider_client& client_;
};

}  // namespace

std::unique_ptr<effect_performer> fulfilment_effects::make() const { return std::make_unique<performer>(*client_); }

}  // namespace cqrs::commands::processes::order_fulfilment
