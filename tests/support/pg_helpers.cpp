#include "tests/support/pg_helpers.hpp"

#include <cstdint>
#include <random>

namespace cqrs::tests {

const std::string& run_id() {
  static const std::string id = [] {
    std::random_device device;
    std::mt19937_64 generator(static_cast<std::uint64_t>(device()) << 32 | device());
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string text;
    for (int i = 0; i < 10; ++i) text.push_back(alphabet[generator() % 36]);
    return text;
  }();
  return id;
}

std::vector<core::recorded_event> whole_stream(core::event_store& store, const core::stream_id& stream) {
  std::vector<core::recorded_event> all;
  const auto end = store.for_each_stream_batch(stream, core::stream_version{1}, 100, [&](const core::stream_batch& batch) {
    all.insert(all.end(), batch.events.begin(), batch.events.end());
  });
  (void)end.value();
  return all;
}

}  // namespace cqrs::tests
