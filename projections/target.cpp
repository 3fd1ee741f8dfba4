#include "projections/target.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::projections {

std::string_view to_string(target_kind kind) {
  switch (kind) {
    case target_kind::redis:
      return "redis";
    case target_kind::postgres:
      return "postgres";
  }
  return "unknown";
}

std::string projection_info::model_name(std::string_view tag) const {
  return fmt::format("{}.v{}.{}", name, version, tag);
}

apply_counts& apply_counts::operator+=(const apply_counts& other) {
  applied += other.applied;
  duplicates += other.duplicates;
  filled += other.filled;
  return *this;
}

namespace detail {

std::vector<core::recorded_event> missing_events(core::event_store& store, const core::stream_id& stream,
                                                 core::stream_version from, core::stream_version before) {
  std::vector<core::recorded_event> events;
  auto next = from;
  while (next < before) {
    const auto wanted =
        std::min<std::size_t>(static_cast<std::size_t>(before.value() - next.value()), store.limits().max_batch);
    auto batch = store.read_stream(stream, next, wanted);
    if (!batch.ok()) throw std::runtime_error("reading missing events: " + batch.error().detail);
    auto& got = batch.value().events;
    // The log said these versions exist: the store lacking one is corruption, never a skip.
    if (got.size() < wanted) {
      throw std::runtime_error(fmt::format("stream {} lacks versions {}..{} in the event store", stream.str(),
                                           next.value(), before.value() - 1));
    }
    got.erase(got.begin() + static_cast<std::ptrdiff_t>(wanted), got.end());
    std::move(got.begin(), got.end(), std::back_inserter(events));
    next = core::stream_version{next.value() + static_cast<std::int64_t>(wanted)};
  }
  return events;
}

}  // namespace detail

}  // namespace cqrs::projections
