// cqrs state: an aggregate's state at a time or version, folded from its stored events batch by
// batch (memory: one batch and the state, whatever the history).

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands/domains.hpp"
#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/history.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tools/cli/erased_fields.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

struct state_request {
  core::stream_id stream;
  std::optional<core::timestamp> at;
  std::optional<core::stream_version> version;
};

state_request read_request(const core::settings_source& source) {
  auto stream = core::stream_id::parse(source.required_text("CQRS_STREAM"));
  if (!stream.ok()) throw core::config_error("CQRS_STREAM", stream.error().detail);
  state_request request{stream.value(), std::nullopt, std::nullopt};
  if (const auto at = source.raw("CQRS_AT")) {
    request.at = projections::parse_timestamp(*at);
    if (!request.at) throw core::config_error("CQRS_AT", "is not a time like 2026-01-31T12:00:00Z");
  }
  if (source.raw("CQRS_VERSION")) {
    request.version = core::stream_version{source.integer("CQRS_VERSION", 0, 1, INT64_MAX)};
  }
  if (request.at && request.version) throw core::config_error("command line", "give --at or --version, not both");
  return request;
}

struct folded {
  std::unique_ptr<commands::state_folder> folder;
  core::stream_version version{};
  std::optional<core::timestamp> last_at;
};

// The events up to the requested version, folded a batch at a time by the aggregate's own code.
folded fold_stream(core::event_store& store, const commands::aggregate_entry& aggregate, const state_request& request) {
  folded result{aggregate.make_folder(), core::stream_version{}, std::nullopt};
  const auto end = store.for_each_stream_batch(
      request.stream, core::stream_version{1}, 1000,
      [&](const core::stream_batch& batch) {
        std::span<const core::recorded_event> events(batch.events);
        if (request.version) {
          const auto past = std::ranges::find_if(events, [&](const auto& e) { return e.version > *request.version; });
          events = events.first(static_cast<std::size_t>(past - events.begin()));
        }
        if (events.empty()) return;
        result.folder->fold(events);
        result.version = events.back().version;
        result.last_at = events.back().recorded_at;
      },
      request.at);
  if (!end.ok()) throw std::runtime_error(end.error().detail);
  return result;
}

int run_state(const core::settings_source& source) {
  const auto request = read_request(source);
  const auto* aggregate = commands::aggregates().find(request.stream.category());
  if (aggregate == nullptr) {
    std::cerr << fmt::format("cqrs state: no aggregate for category '{}' (known: {})\n", request.stream.category(),
                             fmt::join(commands::aggregates().categories(), ", "));
    return 1;
  }
  core::upcaster_registry upcasters;
  schemas::register_upcasters(upcasters);
  core::store_options options;
  options.url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  options.upcasters = &upcasters;
  core::event_store store(options);
  const auto current = store.current_version(request.stream);
  if (current.value() == 0) {
    std::cerr << fmt::format("cqrs state: stream '{}' does not exist\n", request.stream.str());
    return 1;
  }
  if (request.version && *request.version > current) {
    std::cerr << fmt::format("cqrs state: stream '{}' has only {} versions\n", request.stream.str(), current.value());
    return 1;
  }
  const auto result = fold_stream(store, *aggregate, request);
  if (result.version.value() == 0) {
    std::cerr << fmt::format("cqrs state: stream '{}' has no events at that time\n", request.stream.str());
    return 1;
  }
  boost::json::value state = result.folder->state_json();
  erased_fields erasure(source);
  if (erasure.erased(request.stream, boost::json::serialize(state))) erased_fields::redact(state);
  boost::json::object out{{"stream", request.stream.str()},
                          {"version", result.version.value()},
                          {"recorded_at", projections::format_timestamp(*result.last_at)},
                          {"state", std::move(state)}};
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}

}  // namespace

subcommand state_subcommand() {
  return {"state",
          "print an aggregate's state (JSON) at a time or a version, folded from its events",
          {{"CQRS_PG_URL", "", "PostgreSQL connection URL"},
           {"CQRS_STREAM", "", "the aggregate's stream (<category>-<id>), required", core::spec_kind::positional},
           {"CQRS_AT", "", "state as of this time (2026-01-31T12:00:00Z); default: now", core::spec_kind::option},
           {"CQRS_VERSION", "", "state after this stream version; default: the latest", core::spec_kind::option},
           erased_fields::settings().front()},
          run_state};
}

}  // namespace cqrs::tools::cli
