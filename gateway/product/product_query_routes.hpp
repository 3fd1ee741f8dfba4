#pragma once

// The Product query routes: GET /v1/products/{id} (Redis, falling back to PostgreSQL) and
// GET /v1/products (the PostgreSQL catalog), with per-request consistency: eventual (default),
// min_position (read-your-writes, bounded wait) or strong (folded from the event store).
// The Redis read is a redis_call: it runs on the I/O thread's async Redis connection, and only a
// miss or a Redis failure goes to the PostgreSQL pool.

namespace cqrs::gateway {

class router;
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

}  // namespace cqrs::gateway
