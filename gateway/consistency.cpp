#include "gateway/consistency.hpp"

#include <algorithm>

#include "gateway/command_support.hpp"
#include "gateway/gateway_config.hpp"

namespace cqrs::gateway {

namespace {

using clock = std::chrono::steady_clock;

// How long to wait between read-your-writes checks: short against the projector's commit
// interval, long enough that a waiting request costs the pool almost nothing.
constexpr std::chrono::milliseconds consistency_poll{5};
// A Redis read looked at again costs the I/O thread and Redis some tens of microseconds and no
// pool: it looks again soon at first, then less often, a quarter of the time waited so far (from
// 2 to 10 ms), so the delay adds at most about a quarter to the wait and a slow projector does not
// cost dozens of reads per request.
constexpr std::chrono::milliseconds redis_poll_min{2};
constexpr std::chrono::milliseconds redis_poll_max{10};

std::chrono::milliseconds redis_poll(const consistency_wait& wait) {
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - wait.started);
  return std::clamp(waited / 4, redis_poll_min, redis_poll_max);
}

http_response not_yet_consistent() {
  return retry_later(errc::not_yet_consistent, "the read models have not applied min_position yet; retry", 1);
}

bool expired(const consistency_wait& wait) { return clock::now() >= wait.deadline; }

// Each check is one statement: run in autocommit it takes one round trip instead of three
// (BEGIN, the query, COMMIT), and its one snapshot is all it needs. Reads are safe to run again.
// A check of a read model's applied records runs where the read models are read (read_replica.hpp);
// a lookup in the event store runs on the primary, whatever the replica has replayed.
template <typename Check>
auto check_once(worker_context& workers, Check&& check) {
  std::optional<decltype(check(std::declval<pqxx::transaction_base&>()))> out;
  workers.run_on_models(model_access::check, [&](pqxx::connection_base& connection) {
    pqxx::nontransaction tx(connection);
    out.emplace(check(tx));
  });
  return std::move(*out);
}

template <typename Lookup>
auto store_lookup(worker_context& workers, Lookup&& lookup) {
  std::optional<decltype(lookup(std::declval<pqxx::transaction_base&>()))> out;
  workers.reads().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::nontransaction tx(connection);
    out.emplace(lookup(tx));
  });
  return std::move(*out);
}

// Checks on the PostgreSQL pool whether the wait's projection has applied the position on every
// partition; if so continues with `then`, if not looks again after a short delay (on a timer,
// holding no thread) until the deadline, then answers 503 not_yet_consistent.
step when_applied(consistency_wait wait, continuation then, std::chrono::milliseconds delay) {
  return offload{pool_kind::postgres,
                 [wait, then = std::move(then)](worker_context& workers) -> step {
                   const bool applied = check_once(workers, [&](pqxx::transaction_base& tx) {
                     return projections::has_applied_through(tx, wait.source, wait.position);
                   });
                   if (applied) return then();
                   if (expired(wait)) return not_yet_consistent();
                   return when_applied(wait, then, consistency_poll);
                 },
                 delay};
}

step when_stream_applied(stream_wait wait, std::string projection, continuation then,
                         std::chrono::milliseconds delay) {
  return offload{pool_kind::postgres,
                 [wait, projection = std::move(projection), then = std::move(then)](worker_context& workers) -> step {
                   const bool applied = check_once(workers, [&](pqxx::transaction_base& tx) {
                     return projections::has_applied_stream(tx, projection, wait.stream, wait.version);
                   });
                   if (applied) return then();
                   if (expired(wait.wait)) return not_yet_consistent();
                   return when_stream_applied(wait, projection, then, consistency_poll);
                 },
                 delay};
}

}  // namespace

namespace detail {

std::optional<core::log_position> parse_position(std::string_view token) {
  // parse() takes the empty token as the beginning; a client always sends a command's position.
  if (token.size() != core::log_position::token_length) return std::nullopt;
  if (!std::all_of(token.begin(), token.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return std::nullopt;
  }
  auto parsed = core::log_position::parse(token);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value();
}

std::optional<std::string_view> cookie(const http_request& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto end = std::min(rest.find(';'), rest.size());
      auto pair = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

consistency_wait wait_for(core::log_position position, const gateway_config& config) {
  projections::read_your_writes_source source{"", config.relay_name, config.engine.kafka.topic,
                                              config.stream_partitions};
  const auto now = clock::now();
  return consistency_wait{std::move(source), position, now + config.consistency_wait, now};
}

}  // namespace

std::optional<consistency_wait> read_causal_position(const http_request& request, const gateway_config& config,
                                                     std::vector<field_error>& errors) {
  if (request.query_param("min_position") || request.header("x-min-position")) {
    return read_min_position(request, config, errors);
  }
  const std::string name(consistency_token_name);
  auto token = request.header("consistency-token");
  if (!token) token = detail::cookie(request, name);
  if (!token) return std::nullopt;
  const auto position = detail::parse_position(*token);
  if (!position) {
    errors.push_back({name, "must be a consistency token: 32 lowercase hex digits, as a command answered"});
    return std::nullopt;
  }
  return wait_for(*position, config);
}

std::optional<consistency_wait> read_min_position(const http_request& request, const gateway_config& config,
                                                  std::vector<field_error>& errors) {
  auto token = request.query_param("min_position");
  if (!token) token = request.header("x-min-position");
  if (!token) return std::nullopt;
  const auto position = detail::parse_position(*token);
  if (!position) {
    errors.push_back({"min_position", "must be a log position: 32 lowercase hex digits, as a command answered"});
    return std::nullopt;
  }
  return wait_for(*position, config);
}

step after_position(const std::optional<consistency_wait>& wait, std::string projection, continuation then) {
  if (!wait) return then();
  auto with_projection = *wait;
  with_projection.source.projection = std::move(projection);
  return when_applied(std::move(with_projection), std::move(then), std::chrono::milliseconds{0});
}

step at_stream_version(const consistency_wait& wait, core::stream_id stream, stream_continuation then) {
  return offload{pool_kind::postgres,
                 [wait, stream = std::move(stream), then = std::move(then)](worker_context& workers) -> step {
                   const auto version = store_lookup(workers, [&](pqxx::transaction_base& tx) {
                     return projections::stream_version_at(tx, stream, wait.position);
                   });
                   return then(stream_wait{wait, stream, version});
                 },
                 std::chrono::milliseconds{0}};
}

step after_stream_version(const stream_wait& wait, std::string projection, continuation then) {
  return when_stream_applied(wait, std::move(projection), std::move(then), std::chrono::milliseconds{0});
}

step after_stream_position(const std::optional<consistency_wait>& wait, core::stream_id stream, std::string projection,
                           continuation then) {
  if (!wait) return then();
  return at_stream_version(*wait, std::move(stream),
                           [projection = std::move(projection), then = std::move(then)](stream_wait resolved) {
                             return after_stream_version(resolved, projection, then);
                           });
}

step look_again(const consistency_wait& wait, redis_call again) {
  if (expired(wait)) return not_yet_consistent();
  again.delay = redis_poll(wait);
  return again;
}

bool wants_strong(const http_request& request, std::vector<field_error>& errors) {
  const auto consistency = request.query_param("consistency").value_or("eventual");
  if (consistency != "eventual" && consistency != "strong") {
    errors.push_back({"consistency", "must be eventual or strong"});
  }
  return consistency == "strong";
}

}  // namespace cqrs::gateway
