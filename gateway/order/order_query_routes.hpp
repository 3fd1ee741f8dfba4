#pragma once

// The Order domain's read routes (docs/http-api.md, "Orders"):
//
//   GET /v1/orders/{id}                       its customer, support, admin   the order
//   GET /v1/orders?status=&customer_id=&cursor=&limit=
//                                             a customer: own orders; support, admin: everyone's
//
// Causal by default: a read waits for the consistency token it carries (min_position,
// X-Min-Position, the Consistency-Token header or cookie; consistency.hpp, read_causal_position).
// One order waits for its own stream only: the stream's version at the token, which the Redis
// hash (it carries its version) must have reached, looked at again on a timer while behind. The
// list waits until the order_list and order_list_payment models have applied the token on every
// partition. Every order, listed or read alone, carries its payment's id and status (null while
// the payment's read model does not have it yet).
//
// One order is read from Redis (order_detail and order_payment in one script call, on the I/O
// thread's async connection). A miss, Redis down, or consistency=strong folds the order from the
// event store on the PostgreSQL pool (projections/order, fold_order_view): never older than what
// Redis showed, so an order's status never reads as going backwards. Another customer's order
// answers 404, as an unknown one does: its existence is not disclosed.

#include "gateway/domain.hpp"

namespace cqrs::gateway::order {

void add_order_query_routes(router& r, const domain_context& context);

}  // namespace cqrs::gateway::order
