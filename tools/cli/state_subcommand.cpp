// cqrs state: an aggregate's state at a time or version, folded from its stored events batch by
// batch (memory: one batch and the state, whatever the history).

#include <cstdio>
#include <iostream>
#include <optional>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "commands/product/product_aggregate.hpp"
#include "core/aggregate.hpp"
#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/history.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

using commands::product::product_aggregate;
using commands::product::product_state;

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

boost::json::object to_json(const product_state& state) {
  boost::json::object reservations;
  for (const auto& [id, quantity] : state.open_reservations) reservations[id.value()] = quantity;
  boost::json::array closed;
  for (const auto& id : state.closed_reservations) closed.emplace_back(id.value());
  return {{"exists", state.exists},
          {"sku", state.code.value()},
          {"name", state.name},
          {"description", state.description},
          {"price", {{"amount_minor", state.price.amount_minor}, {"currency", state.price.currency.value()}}},
          {"discontinued", state.discontinued},
          {"on_hand", state.on_hand},
          {"reserved", state.reserved},
          {"available", state.available()},
          {"open_reservations", std::move(reservations)},
          {"closed_reservations", std::move(closed)}};
}

struct folded {
  product_state state = product_aggregate::initial_state();
  core::stream_version version{};
  std::optional<core::timestamp> last_at;
};

folded fold_product(core::event_store& store, const state_request& request) {
  folded result;
  const auto end = store.for_each_stream_batch(
      request.stream, core::stream_version{1}, 1000,
      [&](const core::stream_batch& batch) {
        for (const auto& e : batch.events) {
          if (request.version && e.version > *request.version) return;
          result.state = product_aggregate::evolve(
              std::move(result.state), product_aggregate::decode_event(e.type, e.schema_version, e.payload));
          result.version = e.version;
          result.last_at = e.recorded_at;
        }
      },
      request.at);
  if (!end.ok()) throw std::runtime_error(end.error().detail);
  return result;
}

int run_state(const core::settings_source& source) {
  const auto request = read_request(source);
  if (request.stream.category() != product_aggregate::category) {
    std::cerr << fmt::format("cqrs state: no aggregate for category '{}' (known: {})\n", request.stream.category(),
                             product_aggregate::category);
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
  const auto result = fold_product(store, request);
  if (result.version.value() == 0) {
    std::cerr << fmt::format("cqrs state: stream '{}' has no events at that time\n", request.stream.str());
    return 1;
  }
  boost::json::object out{{"stream", request.stream.str()},
                          {"version", result.version.value()},
                          {"recorded_at", projections::format_timestamp(*result.last_at)},
                          {"state", to_json(result.state)}};
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}

}  // namespace

subcommand state_subcommand() {
  return {"state",
          "print an aggregate's state (JSON) at a time or a version, folded from its events",
          {{"CQRS_PG_URL", "", "PostgreSQL connection URL"},
           {"CQRS_STREAM", "", "the aggregate's stream (e.g. product-42), required", core::spec_kind::positional},
           {"CQRS_AT", "", "state as of this time (2026-01-31T12:00:00Z); default: now", core::spec_kind::option},
           {"CQRS_VERSION", "", "state after this stream version; default: the latest", core::spec_kind::option}},
          run_state};
}

}  // namespace cqrs::tools::cli
