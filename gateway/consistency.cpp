#include "gateway/consistency.hpp"

#include <algorithm>

#include "gateway/gateway_config.hpp"

namespace cqrs::gateway {

namespace {

using clock = std::chrono::steady_clock;

// How long to wait between read-your-writes checks: short against the projector's commit
// interval, long enough that a waiting request costs the pool almost nothing.
constexpr std::chrono::milliseconds consistency_poll{5};

// Checks on the PostgreSQL pool whether the wait's projection has applied the position; if so
// continues with `then`, if not looks again after a short delay (on a timer, holding no thread)
// until the deadline, then answers 503 not_yet_consistent.
step when_applied(consistency_wait wait, continuation then, std::chrono::milliseconds delay) {
  return offload{pool_kind::postgres,
                 [wait, then = std::move(then)](worker_context& workers) -> step {
                   const bool applied = read_only(workers, [&](pqxx::transaction_base& tx) {
                     return projections::has_applied_through(tx, wait.source, wait.position);
                   });
                   if (applied) return then();
                   if (clock::now() >= wait.deadline) {
                     return retry_later(errc::not_yet_consistent,
                                        "the read models have not applied min_position yet; retry", 1);
                   }
                   return when_applied(wait, then, consistency_poll);
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

}  // namespace detail

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
  projections::read_your_writes_source source{"", config.relay_name, config.engine.kafka.topic,
                                              config.stream_partitions};
  return consistency_wait{std::move(source), *position, clock::now() + config.consistency_wait};
}

step after_position(const std::optional<consistency_wait>& wait, std::string projection, continuation then) {
  if (!wait) return then();
  auto with_projection = *wait;
  with_projection.source.projection = std::move(projection);
  return when_applied(std::move(with_projection), std::move(then), std::chrono::milliseconds{0});
}

bool wants_strong(const http_request& request, std::vector<field_error>& errors) {
  const auto consistency = request.query_param("consistency").value_or("eventual");
  if (consistency != "eventual" && consistency != "strong") {
    errors.push_back({"consistency", "must be eventual or strong"});
  }
  return consistency == "strong";
}

}  // namespace cqrs::gateway
