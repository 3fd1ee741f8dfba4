#pragma once

// Per-request consistency for any read route: eventual (the read model as it is), min_position
// (read-your-writes: wait, holding no thread, until a read model has applied a log position a
// command answered, then read; 503 not_yet_consistent past the configured wait) and strong (fold
// the aggregate from the event store, so every acknowledged command is in it).
//
// min_position comes in two kinds (projections/read_your_writes.hpp has the rules):
// - a read of one stream waits for that stream only: at_stream_version() resolves the stream's
//   version at the position, then the read checks the model's applied version of the stream
//   (after_stream_version() for a PostgreSQL model, or the reader's own comparison when the
//   model's value carries its version, followed by look_again() while it is behind);
// - a read across streams waits until every partition has passed the position (after_position()).
// Every wait is a chain of steps: checks on a pool, pauses on a timer; no thread is held.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "commands/command_pipeline.hpp"
#include "core/ids.hpp"
#include "core/log_position.hpp"
#include "gateway/http_types.hpp"
#include "gateway/problem.hpp"
#include "gateway/worker_context.hpp"
#include "projections/read_your_writes.hpp"

namespace cqrs::gateway {

struct gateway_config;

// Runs `read` in a read-only transaction on this thread's read-model connection (the replica while
// it keeps up, see read_replica.hpp), with the connection's retry judgement (reads are safe to run
// again).
template <typename Read>
auto read_only(worker_context& workers, Read&& read) {
  std::optional<decltype(read(std::declval<pqxx::transaction_base&>()))> out;
  workers.run_on_models(model_access::read, [&](pqxx::connection_base& connection) {
    pqxx::read_transaction tx(connection);
    out.emplace(read(tx));
  });
  return std::move(*out);
}

// What a read-your-writes wait needs, copied into each step (steps outlive the handler's frame).
struct consistency_wait {
  projections::read_your_writes_source source;  // projection set per check
  core::log_position position;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point started;  // when the request asked
};

using continuation = std::function<step()>;

// min_position (query) or X-Min-Position (header), as the wait it asks for; a bad token is
// recorded in `errors` under min_position.
std::optional<consistency_wait> read_min_position(const http_request& request, const gateway_config& config,
                                                  std::vector<field_error>& errors);

// The position a read waits for by default (causal consistency): min_position or X-Min-Position
// as above, else the Consistency-Token header, else the Consistency-Token cookie that command
// answers set (command_support.hpp). A bad value is recorded in `errors` under the name it came by.
std::optional<consistency_wait> read_causal_position(const http_request& request, const gateway_config& config,
                                                     std::vector<field_error>& errors);

// Across streams: `then` once `projection` has applied the wait's position on every partition
// (checked on the PostgreSQL pool, looked at again on a timer until the deadline, then 503
// not_yet_consistent); at once without a wait.
step after_position(const std::optional<consistency_wait>& wait, std::string projection, continuation then);

// A read of one stream under min_position: the stream, and its version at the position (the
// highest version among its events at or before it), which the model read must have applied.
struct stream_wait {
  consistency_wait wait;
  core::stream_id stream;
  std::int64_t version = 0;
};

using stream_continuation = std::function<step(stream_wait)>;

// Resolves the stream's version at the wait's position (one statement on the PostgreSQL pool),
// then `then`.
step at_stream_version(const consistency_wait& wait, core::stream_id stream, stream_continuation then);

// `then` once the live model of `projection` (a PostgreSQL one) has applied the stream through
// the wait's version (looked at again on a timer until the deadline, then 503).
step after_stream_version(const stream_wait& wait, std::string projection, continuation then);

// A read of one stream from a PostgreSQL model: `then` once `projection` has applied every event
// of `stream` at or before the wait's position; at once without a wait.
step after_stream_position(const std::optional<consistency_wait>& wait, core::stream_id stream, std::string projection,
                           continuation then);

// A read that found its model behind the wait: the same Redis read again after a short delay (on
// a timer of the I/O thread), or 503 not_yet_consistent once the deadline has passed.
step look_again(const consistency_wait& wait, redis_call again);

// The consistency parameter: "eventual" (default) or "strong"; anything else is recorded in
// `errors`. True for strong.
bool wants_strong(const http_request& request, std::vector<field_error>& errors);

// consistency=strong: on the PostgreSQL pool, A's stream folded from the event store through this
// thread's pipeline; `render(state, version)` answers, and a stream that does not exist is
// `missing()`.
template <commands::stored_aggregate A, typename Render, typename Missing>
step read_strong(core::stream_id stream, Render render, Missing missing) {
  return offload{pool_kind::postgres,
                 [stream = std::move(stream), render = std::move(render), missing = std::move(missing)](
                     worker_context& workers) -> step {
                   const auto loaded = workers.pipeline<A>().load(stream);
                   if (loaded.version.value() == 0) return missing();
                   return render(loaded.state, loaded.version.value());
                 },
                 std::chrono::milliseconds{0}};
}

namespace detail {
// A log position as a command answered it: 32 lowercase hex digits.
std::optional<core::log_position> parse_position(std::string_view token);
// The value of cookie `name` in the request's Cookie headers, if any.
std::optional<std::string_view> cookie(const http_request& request, std::string_view name);
}  // namespace detail

}  // namespace cqrs::gateway
