// `kill -9` of the relay process at random moments during steady appends,
// restarted each time: nothing is missing in Kafka; what is sent twice lies after the checkpoint
// the killed relay left behind, and carries its log position (consumers drop it).

#include <doctest/doctest.h>

#include <signal.h>

#include <random>
#include <thread>

#include "tests/relay/relay_test_support.hpp"

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;

namespace {

constexpr int kills = 5;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One run of the relay process: when it started, and the checkpoint it resumed from.
struct session {
  std::int64_t started_ms = 0;
  core::log_position resumed_from;
};

std::vector<std::pair<std::string, std::string>> relay_settings(const std::string& name, core::log_position start) {
  return {{"CQRS_RELAY_NAME", name},
          {"CQRS_RELAY_START_POSITION", start.token()},
          {"CQRS_RELAY_CHECKPOINT_MS", "50"},
          {"CQRS_LOG_LEVEL", "warn"}};
}

// Messages a session sent at or before the checkpoint it resumed from: there must be none.
std::size_t resent_before_checkpoint(const std::vector<relayed_message>& messages, const std::vector<session>& sessions) {
  std::size_t wrong = 0;
  for (const auto& m : messages) {
    // The last session started at or before the message was produced is the one that sent it.
    const session* sender = nullptr;
    for (const auto& s : sessions) {
      if (s.started_ms <= m.timestamp_ms) sender = &s;
    }
    if (sender != nullptr && m.position <= sender->resumed_from) ++wrong;
  }
  return wrong;
}

}  // namespace

TEST_CASE("kill -9 of the relay at random moments loses nothing; resends lie after the checkpoint") {
  const auto name = unique_name("relaykill");
  topic_watch watch(name + "-");
  const auto start = current_safe_head();
  const auto settings = relay_settings(name, start);
  std::mt19937 rng(std::random_device{}());
  steady_writer writer(name, 8, 400);
  std::vector<session> sessions;
  core::log_position checkpoint = start;
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(2ms);  // sessions apart by at least a millisecond of timestamps
    sessions.push_back({now_ms(), checkpoint});
    relay_process relay(settings, log_path(name));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1200)(rng)));
    relay.signal(SIGKILL);
    REQUIRE(relay.wait(5s) == -SIGKILL);
    checkpoint = saved_checkpoint(name);  // final: its writer is dead
    CHECK(sessions.back().resumed_from <= checkpoint);
  }
  std::this_thread::sleep_for(2ms);
  sessions.push_back({now_ms(), checkpoint});
  relay_process survivor(settings, log_path(name));
  std::this_thread::sleep_for(500ms);
  const auto [collected, check] = finish_delivery(writer, watch, 30s, [&] {
    survivor.signal(SIGTERM);
    CHECK(survivor.wait(15s) == 0);
  });
  CHECK(resent_before_checkpoint(collected.messages, sessions) == 0);
  MESSAGE(collected.total << " events appended, " << collected.messages.size() << " messages, " << check.duplicates
                          << " resends after checkpoints, " << kills << " kills");
}
