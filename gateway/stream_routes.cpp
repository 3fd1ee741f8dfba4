#include "gateway/stream_routes.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/ids.hpp"
#include "gateway/problem.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "projections/history.hpp"

namespace cqrs::gateway {

namespace {

namespace json = boost::json;

constexpr std::int64_t default_limit = 100;
constexpr std::int64_t max_limit = 1000;

struct stream_page_request {
  core::stream_id stream;
  std::int64_t from_version = 1;
  std::size_t limit = default_limit;
};

std::optional<std::int64_t> to_int64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || failure != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The integer query parameter `name` within [low, high], `fallback` when absent.
std::int64_t bounded(const http_request& request, const char* name, std::int64_t low, std::int64_t high,
                     std::int64_t fallback, std::vector<field_error>& errors) {
  const auto text = request.query_param(name);
  if (!text) return fallback;
  const auto value = to_int64(*text);
  if (!value || *value < low || *value > high) {
    errors.push_back({name, fmt::format("must be an integer from {} to {}", low, high)});
    return fallback;
  }
  return *value;
}

http_response page_response(const stream_page_request& page, const core::stream_batch& batch) {
  json::array events;
  for (const auto& event : batch.events) events.push_back(projections::event_to_json(event));
  // A full page may have more after it; a short one ends the stream (for now).
  json::value next = nullptr;
  if (batch.events.size() == page.limit) next = batch.next.value();
  const json::object body{{"stream", page.stream.str()}, {"events", std::move(events)}, {"next_from_version", next}};
  return {200, {{"Content-Type", "application/json"}}, json::serialize(body)};
}

// The store refuses only what was validated here already; anything else is our bug.
[[noreturn]] void unexpected(const core::error& failure) {
  throw std::logic_error(fmt::format("read_stream refused a validated request: {}", failure.detail));
}

step read_page(stream_page_request page) {
  return offload{pool_kind::postgres,
                 [page = std::move(page)](worker_context& workers) -> step {
                   auto& store = workers.store();
                   auto batch = store.read_stream(page.stream, core::stream_version{page.from_version}, page.limit);
                   if (!batch.ok()) unexpected(batch.error());
                   // An empty page is "past the end" for a stream that exists, 404 for one that does not.
                   if (batch.value().events.empty() && store.current_version(page.stream).value() == 0) {
                     return problem_response(errc::resource_not_found,
                                             fmt::format("the stream {} has no events", page.stream.str()));
                   }
                   return page_response(page, batch.value());
                 },
                 std::chrono::milliseconds{0}};
}

step read_stream_events(request_context& ctx) {
  std::vector<field_error> errors;
  auto stream = core::stream_id::parse(ctx.params.at("stream"));
  if (!stream.ok()) errors.push_back({"stream", "must be a stream id, category-id (e.g. product-42)"});
  const auto from = bounded(ctx.request, "from_version", 1, std::numeric_limits<std::int64_t>::max(), 1, errors);
  const auto limit = bounded(ctx.request, "limit", 1, max_limit, default_limit, errors);
  if (!errors.empty()) {
    return problem_response(errc::validation_failed, "the request has invalid parameters", std::move(errors));
  }
  return read_page({std::move(stream).value(), from, static_cast<std::size_t>(limit)});
}

}  // namespace

void add_stream_routes(router& r, const gateway_config& /*config*/) {
  r.add(route_spec{"GET", "/v1/streams/{stream}/events", access_policy::any_of({"admin"}), read_stream_events, false});
}

}  // namespace cqrs::gateway
