#pragma once

// The Product command routes: parse and validate the request on the I/O thread, run the command
// pipeline on the PostgreSQL pool (or, for a command the cached product accepts at once, decide
// it on the I/O thread and hand its append to the append committer: product_command_dependencies),
// and answer {id, version, position} with ETag and X-Position, or a problem. Every route is
// admin-only.
//
//   POST   /v1/products                               {sku, name, description, price, stock}  201
//   PATCH  /v1/products/{id}                          {name, description}                      200
//   PUT    /v1/products/{id}/price                    {price}                                  200
//   POST   /v1/products/{id}/restock                  {quantity}                               200
//   POST   /v1/products/{id}/reservations             {reservation_id, quantity}               200
//   DELETE /v1/products/{id}/reservations/{rid}                                                200
//   POST   /v1/products/{id}/reservations/{rid}/commit                                         200
//   POST   /v1/products/{id}/discontinue              {reason?}                                200
//
// price is {"amount": <integer minor units>, "currency": "EUR"}. PATCH takes both fields: a
// partial update would have to merge with state read before the command, which could race with
// another writer; sending both keeps the command exactly what the caller saw. The reason of
// discontinue may be left out (the aggregate accepts an empty one).
//
// Bodies are read strictly: a missing member, a wrong type (a string, a fraction or a number out
// of int64 range where an integer belongs) and an unknown member are each reported, all at once,
// as 400 validation_failed with errors [{field, message}] (nested fields dotted: "price.amount"),
// together with bad path parameters and headers. Business rules (name length, currency, ...) stay
// with the aggregate, which answers them with its own stable code.
//
// Headers: Idempotency-Key (1-255 visible ASCII), If-Match ("3", "\"3\"" or W/"3": the expected
// stream version), X-Correlation-Id (optional, 1-200 visible ASCII). An idempotency key is
// scoped to the caller: the pipeline stores SHA-256(subject, key), so two callers never share a
// key and a 255-byte key fits the store's 200-byte limit. The id of a created product is
// derived from (subject, key) when a key is given, so a retried create targets the same stream
// and gets the same answer; without a key it is random.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "commands/product/product_pipeline.hpp"
#include "gateway/http_types.hpp"
#include "gateway/problem.hpp"

namespace cqrs::gateway {

class router;
struct gateway_config;
struct request_context;

// What the cached path needs. With a cache, a command that the cached state can accept at once
// (commands::command_pipeline::plan_cached) is decided on the I/O thread and its append handed to
// the server's committer (an append_call), without a pool thread; every other command runs the
// whole pipeline on the PostgreSQL pool. Null cache: every command goes to the pool.
struct product_command_dependencies {
  commands::product::product_pipeline::cache_type* cache = nullptr;  // shared with the pool's pipelines
  commands::pipeline_options pipeline;
};

void add_product_command_routes(router& r, const gateway_config& config, const product_command_dependencies& deps);

namespace detail {

// A request ready to run: the envelope, and what the answer needs to know about the route.
struct prepared_command {
  std::string product_id;  // the id part of the stream: "product-<product_id>"
  commands::product::product_envelope envelope;
  bool creates = false;  // 201 with Location instead of 200
  // The request fields the aggregate's invalid_quantity and invalid_reservation_id are about on
  // this route (create calls its quantity "stock"; release and commit take the id from the path).
  std::string_view quantity_field = "quantity";
  std::string_view reservation_field = "reservation_id";
};

// A command, or the response refusing the request (400, or 401 without a caller).
using preparation = std::variant<prepared_command, http_response>;

preparation prepare_create(const request_context& ctx);
preparation prepare_update_details(const request_context& ctx);
preparation prepare_change_price(const request_context& ctx);
preparation prepare_restock(const request_context& ctx);
preparation prepare_reserve(const request_context& ctx);
preparation prepare_release(const request_context& ctx);
preparation prepare_commit(const request_context& ctx);
preparation prepare_discontinue(const request_context& ctx);

// The offload's work: runs the command on this thread's pipeline and answers. PostgreSQL down
// (or a commit in doubt) answers 503 with Retry-After; a failing statement is a bug and is
// rethrown, for the router's failed() to log and answer 500.
step execute(worker_context& workers, const prepared_command& command);

// The first step of a prepared command: the cached path's append_call when `deps` has a cache and
// the cached state accepts the command at once (see product_command_dependencies), else an
// offload that runs execute() on the PostgreSQL pool.
step first_step(const product_command_dependencies& deps, prepared_command command);

// The answer to a store_error of this kind: 503 with Retry-After for an outage (saying, for a
// commit in doubt, how to learn the outcome); nothing for a bug (statement, unexpected).
std::optional<http_response> unavailable(core::failure_kind kind, bool has_key);

// The answer to a command's outcome.
http_response answer(const commands::product::product_outcome& outcome, const prepared_command& command);

// If-Match as an expected version: "3", "\"3\"" or W/"3"; nothing when the value is none of these.
std::optional<core::stream_version> parse_if_match(std::string_view value);
// 1 to 255 visible ASCII characters (0x21-0x7e).
bool is_valid_idempotency_key(std::string_view key);
// The key the pipeline stores: SHA-256 over (subject, key) as hex, so keys are per caller.
std::string scoped_idempotency_key(std::string_view subject, std::string_view key);
// A product id derived from (subject, key): UUID-shaped (version 8) hex of a SHA-256.
std::string derived_product_id(std::string_view subject, std::string_view key);

}  // namespace detail

}  // namespace cqrs::gateway
