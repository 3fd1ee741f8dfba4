#include "commands/processes/event_consumer.hpp"

#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/kafka_messages.hpp"

namespace cqrs::commands::processes {

namespace {

// The projector's consumer settings (projections/projector.cpp explains fetch.wait.max.ms and the
// session timeouts); offsets are committed by hand after handling.
core::kafka::conf_ptr consumer_conf(const consumer_config& config, const std::string& bootstrap) {
  return core::kafka::make_conf({{"bootstrap.servers", bootstrap},
                                 {"group.id", config.group},
                                 {"enable.auto.commit", "false"},
                                 {"enable.auto.offset.store", "false"},
                                 {"auto.offset.reset", "earliest"},
                                 {"session.timeout.ms", "6000"},
                                 {"heartbeat.interval.ms", "500"},
                                 {"fetch.wait.max.ms", "10"}},
                                config.properties);
}

}  // namespace

event_consumer::event_consumer(consumer_config config, std::set<std::string> categories, core::logger log)
    : config_(std::move(config)),
      categories_(std::move(categories)),
      log_(std::move(log)),
      bootstrap_(config_.bootstrap, config_.bootstrap_file) {
  subscribe();
}

event_consumer::~event_consumer() { close(); }

void event_consumer::close() {
  if (!consumer_) return;
  rd_kafka_consumer_close(consumer_.get());
  consumer_.reset();
}

void event_consumer::subscribe() {
  consumer_ = core::kafka::subscribed_consumer(consumer_conf(config_, bootstrap_.current()), config_.topic);
}

void event_consumer::reconnect() {
  close();
  subscribe();
}

std::size_t event_consumer::poll(std::chrono::milliseconds timeout, const handler& handle) {
  if (bootstrap_.moved()) {
    log_.warn("the broker moved (new bootstrap file): reconnecting", {{"bootstrap", bootstrap_.current()}});
    reconnect();
  }
  std::map<std::int32_t, std::int64_t> next_offsets;
  const auto commit_handled = [&] {
    if (next_offsets.empty()) return;
    core::kafka::partition_list_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
    for (const auto& [partition, offset] : next_offsets) {
      rd_kafka_topic_partition_list_add(offsets.get(), config_.topic.c_str(), partition)->offset = offset;
    }
    commit(*offsets);
  };
  std::size_t handled = 0;
  auto wait = timeout;
  for (std::size_t polled = 0; polled < config_.max_batch; ++polled) {
    core::kafka::message_ptr message(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(wait.count())));
    wait = std::chrono::milliseconds{0};
    if (!message) break;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_.warn("kafka consumer error", {{"error", rd_kafka_message_errstr(message.get())}});
      break;
    }
    const auto event = core::kafka::event_from_message(*message);
    if (event && categories_.contains(std::string(event->stream.category()))) {
      try {
        handle(*event);
      } catch (...) {
        commit_handled();
        reconnect();  // the failed event and those after it come again
        throw;
      }
      ++handled;
    }
    next_offsets[message->partition] = message->offset + 1;
  }
  commit_handled();
  return handled;
}

// A failed commit (a rebalance, the broker away) only means redelivery, which changes nothing.
void event_consumer::commit(const rd_kafka_topic_partition_list_t& offsets) {
  if (const auto err = rd_kafka_commit(consumer_.get(), &offsets, 0); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log_.warn("kafka offsets not committed", {{"error", rd_kafka_err2str(err)}});
  }
}

}  // namespace cqrs::commands::processes
