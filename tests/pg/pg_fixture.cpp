#include "tests/pg/pg_fixture.hpp"

#include "tests/support/stack.hpp"

namespace cqrs::tests {

std::string unique_category(std::string_view prefix) { return std::string(prefix) + "_" + run_id(); }

core::stream_id stream_in(std::string_view category, std::string_view id) {
  return core::stream_id::parse(std::string(category) + "-" + std::string(id)).value();
}

core::store_options store_options_for_tests() {
  core::store_options options;
  options.url = pg_url();
  return options;
}

std::unique_ptr<core::event_store> make_store(core::store_options options) {
  return std::make_unique<core::event_store>(std::move(options));
}

core::new_event make_event(std::string type, std::string payload) {
  return core::new_event{std::move(type), 1, std::move(payload), std::nullopt};
}

std::vector<core::recorded_event> whole_category(core::event_store& store, std::string_view category) {
  std::vector<core::recorded_event> all;
  const auto end = store.for_each_log_batch(category, core::log_position{}, 100, [&](const core::log_batch& batch) {
    all.insert(all.end(), batch.events.begin(), batch.events.end());
  });
  (void)end.value();
  return all;
}

}  // namespace cqrs::tests
