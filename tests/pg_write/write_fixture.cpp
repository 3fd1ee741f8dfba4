#include "tests/pg_write/write_fixture.hpp"

#include <algorithm>
#include <cctype>

#include "schemas/contracts/catalog.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::write {

namespace {

const core::upcaster_registry& upcasters() {
  static const core::upcaster_registry registry = [] {
    core::upcaster_registry r;
    schemas::register_upcasters(r);
    return r;
  }();
  return registry;
}

}  // namespace

core::stream_id product_stream(std::string_view name) {
  return core::stream_id::parse("product-" + run_id() + "_" + std::string(name)).value();
}

std::string unique_sku(std::string_view name) {
  std::string sku = std::string(name) + "-" + run_id();
  std::transform(sku.begin(), sku.end(), sku.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return sku;
}

std::unique_ptr<core::event_store> make_store() {
  core::store_options options;
  options.url = pg_url();
  options.upcasters = &upcasters();
  return std::make_unique<core::event_store>(std::move(options));
}

commands::command_context as(std::string actor, std::optional<std::string> idempotency_key) {
  commands::command_context context;
  context.actor = std::move(actor);
  context.idempotency_key = std::move(idempotency_key);
  return context;
}

schemas::create_product new_product(std::string sku, std::int64_t stock) {
  return schemas::create_product{schemas::sku(std::move(sku)), "Teapot", "Holds tea",
                                 schemas::money{1999, schemas::currency_code("EUR")}, stock};
}

std::size_t count_of(const std::vector<core::recorded_event>& events, std::string_view type) {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const core::recorded_event& e) { return e.type == type; }));
}

}  // namespace cqrs::tests::write
