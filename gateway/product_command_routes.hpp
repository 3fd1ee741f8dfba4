#pragma once

// The Product command routes (POST /v1/products, PATCH /v1/products/{id}, ...): parse and
// validate the body on the I/O thread, run the command pipeline on the PostgreSQL pool, and answer
// {id, version, position} with ETag and X-Position, or a problem.

namespace cqrs::gateway {

class router;
struct gateway_config;

void add_product_command_routes(router& r, const gateway_config& config);

}  // namespace cqrs::gateway
