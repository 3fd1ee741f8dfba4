#pragma once

// Folded aggregates kept in memory between commands, shared by a process's command pipelines
// (one per worker thread), so that a command on a stream this process wrote recently skips the
// snapshot and tail reads and costs one statement: the append.
//
// Why it is safe: an entry is the exact fold of a stream's events 1..v, and events never change,
// so it can only be stale (another process appended after v), never wrong. The pipeline uses an
// entry only to *accept*: it appends with expected version exactly v, which the store refuses if
// v is no longer the stream's last version. Every other answer (a rejection, a failed If-Match,
// a command that changes nothing) may depend on the events after v, so the pipeline decides it
// again on the stream as stored.
//
// Bounded: each shard holds at most capacity / shards entries and drops an arbitrary one when
// full; a dropped entry costs the next command on that stream one load.

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.hpp"
#include "core/strong_types.hpp"

namespace cqrs::commands {

template <typename State>
class aggregate_cache {
 public:
  struct entry {
    State state;
    core::stream_version version;
  };

  explicit aggregate_cache(std::size_t capacity, std::size_t shards = 16)
      : per_shard_(capacity / (shards == 0 ? 1 : shards) + 1), shards_(shards == 0 ? 1 : shards) {}
  aggregate_cache(const aggregate_cache&) = delete;
  aggregate_cache& operator=(const aggregate_cache&) = delete;

  std::optional<entry> find(const core::stream_id& stream) const {
    const auto& s = shard_of(stream);
    std::lock_guard lock(s.mutex);
    const auto found = s.entries.find(stream.str());
    if (found == s.entries.end()) return std::nullopt;
    return found->second;
  }

  // Keeps the newer of the held entry and this one: threads that loaded or appended concurrently
  // may put in any order.
  void put(const core::stream_id& stream, State state, core::stream_version version) {
    auto& s = shard_of(stream);
    std::lock_guard lock(s.mutex);
    const auto found = s.entries.find(stream.str());
    if (found != s.entries.end()) {
      if (found->second.version.value() < version.value()) found->second = entry{std::move(state), version};
      return;
    }
    if (s.entries.size() >= per_shard_) s.entries.erase(s.entries.begin());
    s.entries.emplace(stream.str(), entry{std::move(state), version});
  }

  // After a conflict: the entry is older than the stream.
  void forget(const core::stream_id& stream) {
    auto& s = shard_of(stream);
    std::lock_guard lock(s.mutex);
    s.entries.erase(stream.str());
  }

  std::size_t size() const {
    std::size_t total = 0;
    for (const auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      total += s.entries.size();
    }
    return total;
  }

 private:
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, entry> entries;
  };

  shard& shard_of(const core::stream_id& stream) { return shards_[std::hash<std::string>{}(stream.str()) % shards_.size()]; }
  const shard& shard_of(const core::stream_id& stream) const {
    return shards_[std::hash<std::string>{}(stream.str()) % shards_.size()];
  }

  std::size_t per_shard_;
  std::vector<shard> shards_;
};

}  // namespace cqrs::commands
