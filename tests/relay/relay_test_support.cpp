#include "tests/relay/relay_test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "core/commit_notifier.hpp"
#include "tests/support/stack.hpp"

extern char** environ;

namespace cqrs::tests::relay {

namespace {

using namespace std::chrono_literals;

core::kafka::conf_ptr consumer_conf(const std::string& bootstrap, const std::string& group) {
  core::kafka::conf_ptr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", bootstrap}, {"group.id", group}, {"enable.auto.commit", "false"}};
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(fmt::format("{}={}: {}", name, value, error.data()));
    }
  }
  // Quiet while the broker-down test has every broker down: the checks say what went wrong.
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
  rd_kafka_conf_set_error_cb(conf.get(), [](rd_kafka_t*, int, const char*, void*) {});
  return conf;
}

int partition_count(rd_kafka_t* client, const std::string& topic) {
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(client, 1, nullptr, &raw, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("cannot read the cluster's metadata");
  }
  const core::kafka::metadata_ptr metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic == metadata->topics[i].topic) return metadata->topics[i].partition_cnt;
  }
  throw std::runtime_error(fmt::format("topic {} not found", topic));
}

// Every partition, from its current end.
void assign_from_end(rd_kafka_t* consumer, const std::string& topic) {
  const int partitions = partition_count(consumer, topic);
  std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t*)> list(
      rd_kafka_topic_partition_list_new(partitions), rd_kafka_topic_partition_list_destroy);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), p, &low, &high, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error(fmt::format("cannot read the end offset of partition {}", p));
    }
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = high;
  }
  if (rd_kafka_assign(consumer, list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("assign failed");
}

std::string header_value(const rd_kafka_message_t& message, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || value == nullptr) return {};
  return std::string(static_cast<const char*>(value), size);
}

relayed_message to_relayed(const rd_kafka_message_t& message) {
  relayed_message out;
  out.stream = std::string(static_cast<const char*>(message.key), message.key_len);
  out.version = std::stoll(header_value(message, "stream-version"));
  out.position = core::log_position::parse(header_value(message, "log-position")).value();
  out.partition = message.partition;
  out.offset = message.offset;
  rd_kafka_timestamp_type_t type{};
  out.timestamp_ms = rd_kafka_message_timestamp(&message, &type);
  return out;
}

// Versions each stream keeps after dropping resends, partition by partition in offset order.
std::map<std::string, std::vector<std::int64_t>> kept_versions(std::vector<relayed_message> messages,
                                                                std::size_t& duplicates) {
  std::sort(messages.begin(), messages.end(),
            [](const auto& a, const auto& b) { return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset); });
  std::map<std::int32_t, core::log_position> highest;
  std::map<std::string, std::vector<std::int64_t>> kept;
  for (const auto& m : messages) {
    const auto seen = highest.find(m.partition);
    if (seen != highest.end() && m.position <= seen->second) {
      ++duplicates;
      continue;
    }
    highest[m.partition] = m.position;
    kept[m.stream].push_back(m.version);
  }
  return kept;
}

std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    const auto overridden = [&](const auto& s) { return s.first == name; };
    if (std::none_of(settings.begin(), settings.end(), overridden)) env.emplace_back(text);
  }
  for (const auto& [name, value] : settings) env.push_back(name + "=" + value);
  return env;
}

}  // namespace

std::string kafka_bootstrap() { return tests::kafka_bootstrap(); }

std::string kafka_topic() {
  const char* topic = std::getenv("CQRS_KAFKA_TOPIC");
  return topic != nullptr && *topic != '\0' ? topic : "events";
}

std::string unique_name(std::string_view prefix) {
  std::random_device device;
  return fmt::format("{}_{:08x}", prefix, device());
}

core::log_position current_safe_head() {
  core::store_options options;
  options.url = pg_url();
  return core::event_store(options).safe_head();
}

commands::relay::relay_options relay_options_for(const std::string& name) {
  commands::relay::relay_options options;
  options.pg_url = pg_url();
  options.kafka.bootstrap = kafka_bootstrap();
  options.kafka.topic = kafka_topic();
  options.name = name;
  options.checkpoint_interval = 50ms;
  options.standby_retry = 200ms;
  options.start_position = current_safe_head();
  return options;
}

core::log_position saved_checkpoint(const std::string& name) {
  pqxx::connection connection(pg_url());
  pqxx::nontransaction tx(connection);
  const auto rows = tx.exec_params("SELECT xid::text, seq FROM relay_checkpoints WHERE relay_name = $1 AND topic = $2",
                                   name, kafka_topic());
  if (rows.empty()) return {};
  return core::log_position{rows[0][0].as<std::uint64_t>(), rows[0][1].as<std::uint64_t>()};
}

topic_watch::topic_watch(std::string key_prefix, const std::string& bootstrap, const std::string& topic)
    : key_prefix_(std::move(key_prefix)) {
  core::kafka::conf_ptr conf = consumer_conf(bootstrap, unique_name("relay_test"));
  std::array<char, 512> error{};
  consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!consumer_) throw std::runtime_error(fmt::format("consumer: {}", error.data()));
  conf.release();  // rd_kafka_new took ownership
  rd_kafka_poll_set_consumer(consumer_.get());
  assign_from_end(consumer_.get(), topic);
}

void topic_watch::poll_once() {
  const std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> message(
      rd_kafka_consumer_poll(consumer_.get(), 100), rd_kafka_message_destroy);
  if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR || message->key == nullptr) return;
  const std::string_view key(static_cast<const char*>(message->key), message->key_len);
  if (!key.starts_with(key_prefix_)) return;
  messages_.push_back(to_relayed(*message));
  ++distinct_[{messages_.back().stream, messages_.back().version}];
}

const std::vector<relayed_message>& topic_watch::collect_until(std::size_t count, std::chrono::seconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (distinct_.size() < count && steady_clock::now() < deadline) poll_once();
  // Whatever else is already there (duplicates), without waiting long.
  for (int i = 0; i < 5; ++i) poll_once();
  return messages_;
}

delivery_check check_delivery(const std::vector<relayed_message>& messages,
                              const std::map<std::string, std::int64_t>& expected) {
  delivery_check check;
  const auto kept = kept_versions(messages, check.duplicates);
  for (const auto& [stream, count] : expected) {
    std::vector<std::int64_t> wanted(static_cast<std::size_t>(count));
    std::iota(wanted.begin(), wanted.end(), 1);
    const auto found = kept.find(stream);
    const auto& got = found == kept.end() ? std::vector<std::int64_t>{} : found->second;
    if (got != wanted) {
      check.problems.push_back(fmt::format("{}: expected versions 1..{}, got {} events, first {}, last {}", stream, count,
                                           got.size(), got.empty() ? 0 : got.front(), got.empty() ? 0 : got.back()));
    }
  }
  for (const auto& [stream, versions] : kept) {
    if (expected.count(stream) == 0) check.problems.push_back(fmt::format("{}: not appended by this test", stream));
  }
  return check;
}

struct steady_writer::state {
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> total{0};
  std::map<std::string, std::int64_t> appended;
  std::exception_ptr failure;
  std::jthread thread;
};

steady_writer::steady_writer(std::string category, int streams, double rate) : state_(std::make_unique<state>()) {
  state_->thread = std::jthread([s = state_.get(), category, streams, rate] {
    try {
      core::commit_notifier notifier(pg_url());
      core::store_options options;
      options.url = pg_url();
      options.notifier = &notifier;
      core::event_store store(options);
      const auto period = std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(1.0 / rate));
      auto next = steady_clock::now();
      for (std::int64_t i = 0; !s->stopping.load(); ++i, next += period) {
        std::this_thread::sleep_until(next);
        const auto name = fmt::format("{}-s{}", category, i % streams);
        auto& version = s->appended[name];
        const auto stream = core::stream_id::parse(name).value();
        const core::new_event event{"relay.test", 1, fmt::format("event {}", i), std::nullopt};
        (void)store.append(stream, core::expected_version::exact(core::stream_version{version}), {event}).value();
        ++version;
        ++s->total;
      }
    } catch (...) {
      s->failure = std::current_exception();
    }
  });
}

steady_writer::~steady_writer() {
  state_->stopping = true;
}

std::size_t steady_writer::appended_so_far() const { return state_->total.load(); }

std::map<std::string, std::int64_t> steady_writer::stop() {
  state_->stopping = true;
  if (state_->thread.joinable()) state_->thread.join();
  if (state_->failure) std::rethrow_exception(state_->failure);
  return state_->appended;
}

delivery_check check_complete_delivery(const topic_watch& watch, const std::map<std::string, std::int64_t>& expected,
                                       std::size_t total) {
  const auto check = check_delivery(watch.messages(), expected);
  CHECK(watch.distinct_events() == total);
  CHECK(check.problems.empty());
  for (const auto& problem : check.problems) MESSAGE(problem);
  return check;
}

delivery_outcome finish_delivery(steady_writer& writer, topic_watch& watch, std::chrono::seconds limit,
                                 const std::function<void()>& stop_relay) {
  delivery_outcome outcome;
  auto& collected = outcome.collected;
  collected.appended = writer.stop();
  for (const auto& [stream, count] : collected.appended) collected.total += static_cast<std::size_t>(count);
  collected.messages = watch.collect_until(collected.total, limit);
  stop_relay();
  outcome.check = check_complete_delivery(watch, collected.appended, collected.total);
  return outcome;
}

running_relay::running_relay(commands::relay::relay_options options, core::log_level level)
    : relay_(std::move(options), core::logger("relay-test", level), registry_),
      thread_([this](std::stop_token stop) { relay_.run(stop); }) {}

void running_relay::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

relay_process::relay_process(const std::vector<std::pair<std::string, std::string>>& settings, std::string log_file)
    : log_file_(std::move(log_file)) {
  const auto env = environment_with(settings);
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::string binary = CQRS_RELAY_BINARY;
  std::array<char*, 2> argv{binary.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  const int failed = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) throw std::runtime_error(fmt::format("cannot start {}: error {}", binary, failed));
}

relay_process::~relay_process() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  (void)wait(5s);
}

void relay_process::signal(int number) {
  if (pid_ > 0) kill(pid_, number);
}

std::optional<int> relay_process::wait(std::chrono::milliseconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    if (steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

bool relay_process::logged(std::string_view text) const {
  std::ifstream in(log_file_);
  std::stringstream content;
  content << in.rdbuf();
  return content.str().find(text) != std::string::npos;
}

std::string log_path(std::string_view name) {
  const char* dir = std::getenv("CQRS_STACK_DIR");
  return fmt::format("{}/{}.log", dir != nullptr && *dir != '\0' ? dir : "/tmp", name);
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace cqrs::tests::relay
