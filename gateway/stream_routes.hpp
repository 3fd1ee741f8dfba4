#pragma once

// GET /v1/streams/{stream}/events?from_version=&limit= (admin): a stream's stored history.

namespace cqrs::gateway {

class router;
struct gateway_config;

void add_stream_routes(router& r, const gateway_config& config);

}  // namespace cqrs::gateway
