#include "commands/payment/payment_state.hpp"

#include <stdexcept>
#include <variant>

namespace cqrs::commands::payment {

namespace {

namespace s = schemas;

struct apply_event {
  payment_state& state;

  void operator()(const s::payment_requested& e) const {
    state.status = payment_status::requested;
    state.order = e.order;
    state.amount = e.amount;
    state.card = e.card;
  }
  void operator()(const s::payment_pending& e) const {
    state.charge = e.charge;
    state.pending = true;
  }
  void operator()(const s::payment_authorized& e) const {
    state.status = payment_status::authorized;
    state.charge = e.charge;
    state.pending = false;
  }
  void operator()(const s::payment_captured& e) const {
    state.status = payment_status::captured;
    state.captured_minor = e.amount.amount_minor;
  }
  void operator()(const s::payment_declined& e) const {
    state.status = payment_status::declined;
    state.reason = e.reason;
    state.pending = false;
  }
  void operator()(const s::payment_failed& e) const {
    state.status = payment_status::failed;
    state.reason = e.reason;
    state.pending = false;
  }
  void operator()(const s::payment_voided&) const {
    state.status = payment_status::voided;
    state.pending = false;
  }
  void operator()(const s::payment_refunded& e) const {
    state.refunds[e.refund] = e.amount.amount_minor;
    state.refunded_minor = e.refunded_total.amount_minor;
    if (state.refunded_minor >= state.captured_minor) state.status = payment_status::refunded;
  }
};

}  // namespace

std::string_view to_string(payment_status status) {
  switch (status) {
    case payment_status::none: return "none";
    case payment_status::requested: return "requested";
    case payment_status::authorized: return "authorized";
    case payment_status::captured: return "captured";
    case payment_status::declined: return "declined";
    case payment_status::failed: return "failed";
    case payment_status::voided: return "voided";
    case payment_status::refunded: return "refunded";
  }
  throw std::invalid_argument("not a payment_status value");
}

payment_state evolve(payment_state state, const schemas::payment_event& event) {
  std::visit(apply_event{state}, event);
  return state;
}

}  // namespace cqrs::commands::payment
