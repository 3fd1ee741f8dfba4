#pragma once

// The command caches of a gateway process, one per aggregate type (commands/aggregate_cache.hpp):
// folded aggregates this process loaded or changed, shared by every pool thread's pipeline and by
// the I/O threads' cached path. Filled at start-up from each domain's registration, then only
// read (each cache is thread-safe on its own).

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>

#include "commands/aggregate_cache.hpp"
#include "commands/stored_aggregate.hpp"

namespace cqrs::gateway {

class command_caches {
 public:
  template <commands::stored_aggregate A>
  using cache_for = commands::aggregate_cache<typename A::state_type>;

  // A cache of `capacity` folded aggregates of type A; 0 adds none (commands then always load).
  template <commands::stored_aggregate A>
  void add(std::size_t capacity) {
    if (capacity == 0) return;
    caches_[std::type_index(typeid(A))] = std::make_shared<cache_for<A>>(capacity);
  }

  // A's cache, or null when it has none.
  template <commands::stored_aggregate A>
  cache_for<A>* find() const {
    const auto found = caches_.find(std::type_index(typeid(A)));
    return found == caches_.end() ? nullptr : static_cast<cache_for<A>*>(found->second.get());
  }

 private:
  std::map<std::type_index, std::shared_ptr<void>> caches_;
};

}  // namespace cqrs::gateway
