#pragma once

// librdkafka's mock cluster handle, owned by a unique_ptr with its deleter. Apart from
// kafka_handles.hpp because the mock API is for test brokers only: clients never see it.
// Header-only, like kafka_handles.hpp: only its includers link librdkafka.

#include <memory>

#include <librdkafka/rdkafka.h>  // before rdkafka_mock.h, which needs its declarations
#include <librdkafka/rdkafka_mock.h>

namespace cqrs::core::kafka {

namespace detail {

struct mock_cluster_deleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const { rd_kafka_mock_cluster_destroy(cluster); }
};

}  // namespace detail

using mock_cluster_ptr = std::unique_ptr<rd_kafka_mock_cluster_t, detail::mock_cluster_deleter>;

}  // namespace cqrs::core::kafka
