#pragma once

// The Product query routes: GET /v1/products/{id} (Redis, falling back to PostgreSQL) and
// GET /v1/products (the PostgreSQL catalog), with per-request consistency: eventual (default),
// min_position (read-your-writes, bounded wait) or strong (folded from the event store).

namespace cqrs::gateway {

class router;
struct gateway_config;

void add_product_query_routes(router& r, const gateway_config& config);

}  // namespace cqrs::gateway
