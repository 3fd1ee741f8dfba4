#pragma once

// Asks the broker, off the consume loop (its round trips can take the mock broker half a
// second), for each partition's high watermark and the group's committed offset, and stamps each
// answer with PostgreSQL's clock read *before* asking: a partition whose applied position reaches
// that watermark has applied everything Kafka had acknowledged at the stamp. This is how an idle
// partition proves, for read-your-writes, that it holds nothing unapplied.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/pg_connection.hpp"
#include "core/kafka_handles.hpp"

namespace cqrs::projections {

struct projector_config;

class watermark_watcher {
 public:
  struct sample {
    std::int64_t high = -1;       // the broker's high watermark
    std::int64_t committed = -1;  // the group's committed offset (negative: none)
    std::string as_of;            // PostgreSQL time read before asking
  };

  explicit watermark_watcher(const projector_config& config);
  ~watermark_watcher();
  watermark_watcher(const watermark_watcher&) = delete;
  watermark_watcher& operator=(const watermark_watcher&) = delete;

  std::map<std::int32_t, sample> latest() const;

 private:
  void loop();
  void sample_once();
  int partition_count();

  std::string topic_;
  core::kafka::client_ptr client_;
  core::pg_connection clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::int32_t, sample> latest_;
  std::thread thread_;
};

}  // namespace cqrs::projections
