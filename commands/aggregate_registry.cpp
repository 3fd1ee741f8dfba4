#include "commands/aggregate_registry.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::commands {

const aggregate_entry* aggregate_registry::find(std::string_view category) const {
  const auto found = std::ranges::find(entries_, category, &aggregate_entry::category);
  return found == entries_.end() ? nullptr : &*found;
}

std::vector<std::string> aggregate_registry::categories() const {
  std::vector<std::string> all;
  for (const auto& entry : entries_) all.push_back(entry.category);
  return all;
}

void aggregate_registry::add_entry(aggregate_entry entry) {
  if (find(entry.category) != nullptr) {
    throw std::logic_error(fmt::format("aggregate category '{}' registered twice", entry.category));
  }
  entries_.push_back(std::move(entry));
}

}  // namespace cqrs::commands
