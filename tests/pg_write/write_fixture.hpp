#pragma once

// Shared helpers of the pg_write suite: names unique to this run (so reruns on one database pass),
// stores, command contexts, and reading a stream back. run_id() and whole_stream() are the ones of
// tests/support/pg_helpers.hpp (shared with the pg suite).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/product/product_pipeline.hpp"
#include "core/event_store.hpp"
#include "tests/support/pg_helpers.hpp"

namespace cqrs::tests::write {

// Random per process: `[a-z0-9]{10}`.
using tests::run_id;

// `product-<run id>_<name>`.
core::stream_id product_stream(std::string_view name);

// `<NAME>-<RUN ID>`, a well-formed SKU no other run uses.
std::string unique_sku(std::string_view name);

// A store on CQRS_PG_URL reading older event versions as current ones.
std::unique_ptr<core::event_store> make_store();

commands::command_context as(std::string actor, std::optional<std::string> idempotency_key = std::nullopt);

schemas::create_product new_product(std::string sku, std::int64_t stock);

// Every event of the stream, in version order.
using tests::whole_stream;

// How many events of the stream have this type.
std::size_t count_of(const std::vector<core::recorded_event>& events, std::string_view type);

}  // namespace cqrs::tests::write
