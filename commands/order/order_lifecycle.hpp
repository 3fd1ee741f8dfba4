#pragma once

// The order's lifecycle: its statuses and which lifecycle event moves which status where. The
// transitions live in one place only, a Boost.MSM state machine in order_lifecycle.cpp; this
// header shows plain functions so that nothing else compiles MSM.
//
//   none --place--> placed
//   placed --reserve_stock--> stock_reserved        placed --reject--> rejected
//   placed | stock_reserved --cancel--> cancelled    placed | stock_reserved --expire--> expired
//   stock_reserved --pay--> paid                     stock_reserved --fail_payment--> payment_failed
//   paid --cancel--> cancelled (the whole amount is then refunded)
//   paid --ship--> shipped --deliver--> delivered
//   paid | shipped | delivered | partially_refunded --request_refund--> the same status
//   paid | shipped | delivered | partially_refunded --record_full_refund--> refunded
//   paid | shipped | delivered | partially_refunded --record_partial_refund--> partially_refunded
//   cancelled --record_full_refund--> refunded
// Any other pair is refused (the command is rejected with invalid_transition).

#include <array>
#include <optional>
#include <string_view>

namespace cqrs::commands::order {

// Stable numbers: they are stored in snapshots. `none`: no order on the stream yet.
enum class order_status {
  none = 0,
  placed = 1,
  stock_reserved = 2,
  paid = 3,
  shipped = 4,
  delivered = 5,
  rejected = 6,
  payment_failed = 7,
  expired = 8,
  cancelled = 9,
  refunded = 10,
  partially_refunded = 11,
};

inline constexpr std::array all_statuses{
    order_status::none,      order_status::placed,         order_status::stock_reserved, order_status::paid,
    order_status::shipped,   order_status::delivered,      order_status::rejected,       order_status::payment_failed,
    order_status::expired,   order_status::cancelled,      order_status::refunded,       order_status::partially_refunded};

enum class lifecycle_event {
  place,
  reserve_stock,
  reject,
  pay,
  fail_payment,
  expire,
  cancel,
  ship,
  deliver,
  request_refund,
  record_full_refund,
  record_partial_refund,
};

inline constexpr std::array all_lifecycle_events{
    lifecycle_event::place,          lifecycle_event::reserve_stock,      lifecycle_event::reject,
    lifecycle_event::pay,            lifecycle_event::fail_payment,       lifecycle_event::expire,
    lifecycle_event::cancel,         lifecycle_event::ship,               lifecycle_event::deliver,
    lifecycle_event::request_refund, lifecycle_event::record_full_refund, lifecycle_event::record_partial_refund};

// "stock_reserved", as HTTP answers and `cqrs state` show a status.
std::string_view to_string(order_status status);
std::string_view to_string(lifecycle_event event);

// Where `event` takes an order in `from`, or nothing when the lifecycle refuses it there.
std::optional<order_status> next_status(order_status from, lifecycle_event event);

}  // namespace cqrs::commands::order
