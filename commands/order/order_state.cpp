#include "commands/order/order_state.hpp"

#include <utility>
#include <variant>

namespace cqrs::commands::order {

namespace {

namespace s = schemas;

struct event_kind {
  lifecycle_event operator()(const s::order_placed&) const { return lifecycle_event::place; }
  lifecycle_event operator()(const s::order_stock_reserved&) const { return lifecycle_event::reserve_stock; }
  lifecycle_event operator()(const s::order_rejected&) const { return lifecycle_event::reject; }
  lifecycle_event operator()(const s::order_paid&) const { return lifecycle_event::pay; }
  lifecycle_event operator()(const s::order_payment_failed&) const { return lifecycle_event::fail_payment; }
  lifecycle_event operator()(const s::order_expired&) const { return lifecycle_event::expire; }
  lifecycle_event operator()(const s::order_cancelled&) const { return lifecycle_event::cancel; }
  lifecycle_event operator()(const s::order_shipped&) const { return lifecycle_event::ship; }
  lifecycle_event operator()(const s::order_delivered&) const { return lifecycle_event::deliver; }
  lifecycle_event operator()(const s::order_refund_requested&) const { return lifecycle_event::request_refund; }
  lifecycle_event operator()(const s::order_refunded& e) const {
    return e.full ? lifecycle_event::record_full_refund : lifecycle_event::record_partial_refund;
  }
};

// What each event records besides the status.
struct apply_fields {
  order_state& state;

  void operator()(const s::order_placed& e) const {
    state.customer = e.customer;
    state.lines = e.lines;
    state.total = e.total;
    state.address = e.address;
    state.payment = e.payment;
  }
  void operator()(const s::order_rejected& e) const { state.reason = e.reason; }
  void operator()(const s::order_payment_failed& e) const { state.reason = e.reason; }
  void operator()(const s::order_cancelled& e) const {
    state.cancelled_by = e.by;
    state.refund_needed = e.refund_needed;
  }
  void operator()(const s::order_refund_requested& e) const { state.requested_refunds[e.refund] = e.amount.amount_minor; }
  void operator()(const s::order_refunded& e) const {
    state.requested_refunds.erase(e.refund);
    state.recorded_refunds[e.refund] = e.amount.amount_minor;
    state.refunded_minor = e.refunded_total.amount_minor;
  }
  template <typename Other>
  void operator()(const Other&) const {}
};

}  // namespace

lifecycle_event lifecycle_event_of(const schemas::order_event& event) { return std::visit(event_kind{}, event); }

order_state evolve(order_state state, const schemas::order_event& event) {
  if (const auto next = next_status(state.status, lifecycle_event_of(event))) state.status = *next;
  std::visit(apply_fields{state}, event);
  return state;
}

}  // namespace cqrs::commands::order
