#pragma once

// The Product query routes: GET /v1/products/{id} (Redis, falling back to PostgreSQL) and
// GET /v1/products (the PostgreSQL catalog), with per-request consistency: eventual (default),
// min_position (read-your-writes, bounded wait) or strong (folded from the event store).
// The Redis read is a redis_call: it runs on the I/O thread's async Redis connection, and only a
// miss or a Redis failure goes to the PostgreSQL pool.

#include <vector>

namespace cqrs::projections {
struct catalog_query;
}

namespace cqrs::gateway {

class router;
struct http_request;
struct field_error;
class product_detail_reads;
class read_model_lag;
struct gateway_config;

// `reads` and `lag` must outlive the router; main also hands its script to the server's Redis
// connections, which load it as soon as they connect. Answers from a read model carry `lag`'s
// Read-Model-Lag header (none without one).
void add_product_query_routes(router& r, const gateway_config& config, const product_detail_reads& reads,
                              const read_model_lag* lag);
// The same with reads of its own (tests).
void add_product_query_routes(router& r, const gateway_config& config, const read_model_lag* lag = nullptr);

namespace detail {
// GET /v1/products' query parameters (q, min_price, max_price, in_stock, include_discontinued,
// limit, and the cursor of a next page) as a catalog query; each bad one recorded in `errors`.
projections::catalog_query catalog_query_of(const http_request& request, std::vector<field_error>& errors);
}  // namespace detail

}  // namespace cqrs::gateway
