// Read-your-writes under writes elsewhere, over real HTTP with the relay and projector running: a
// quiet product is restocked and read back with min_position while another product takes 0, 20
// or 200 restocks a second. Every read must answer 200 with the written value: a read of one
// stream looks at that stream only, and the cross-stream rule of search cannot be starved by a
// busy log (docs/projections.md, "Read-your-writes"). These are correctness checks, not timings:
// a read the rules failed would wait out the gateway's consistency wait and answer 503.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

// Restocks one product at a steady pace on its own thread (each restock due at start + i / rate;
// a slow answer delays the next ones, it does not pile them up), keeping the last position a
// restock answered and when that restock was sent. Stopped and joined when destroyed.
class paced_writer {
 public:
  paced_writer(const product_api& api, std::string id, int per_second)
      : api_(api), id_(std::move(id)), per_second_(per_second) {
    if (per_second_ > 0) thread_ = std::thread([this] { run(); });
  }
  ~paced_writer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  paced_writer(const paced_writer&) = delete;
  paced_writer& operator=(const paced_writer&) = delete;

  // The position of a restock sent after `moment`: its transaction began after everything
  // acknowledged before `moment` had committed, so its position lies after theirs. Waits for the
  // writer's next answers until one qualifies; empty if the writer refuses or stopped.
  std::string position_sent_after(std::chrono::steady_clock::time_point moment) const {
    for (;;) {
      {
        const std::lock_guard lock(mutex_);
        if (last_sent_ > moment) return last_position_;
      }
      if (refused_.load() > 0 || !thread_.joinable()) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  int written() const { return written_.load(); }
  int refused() const { return refused_.load(); }

 private:
  void run() {
    const auto period = std::chrono::duration<double>(1.0 / per_second_);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; !stop_; ++i) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * i));
      const auto sent = std::chrono::steady_clock::now();
      const auto answer = api_.restock(id_, 1);
      if (answer.status != 200) {
        ++refused_;
        continue;
      }
      const std::lock_guard lock(mutex_);
      last_position_ = result_of(answer).position;
      last_sent_ = sent;
      ++written_;
    }
  }

  const product_api& api_;
  std::string id_;
  int per_second_;
  std::atomic<bool> stop_{false};
  std::atomic<int> written_{0};
  std::atomic<int> refused_{0};
  mutable std::mutex mutex_;
  std::string last_position_;
  std::chrono::steady_clock::time_point last_sent_{};
  std::thread thread_;
};

std::int64_t stock_of(const http_answer& read) {
  return read.json().as_object().at("stock_available").to_number<std::int64_t>();
}

std::int64_t version_of(const http_answer& read) { return read.json().as_object().at("version").to_number<std::int64_t>(); }

// The single item of a search page; throws when the page holds another number of items.
std::int64_t searched_stock(const http_answer& page) {
  const auto json = page.json();
  const auto& items = json.as_object().at("items").as_array();
  if (items.size() != 1) throw std::runtime_error(fmt::format("the search found {} products, not 1", items.size()));
  return items.at(0).as_object().at("stock_available").to_number<std::int64_t>();
}

constexpr int rounds = 5;

// Restocks a quiet product `rounds` times while another takes `per_second` restocks a second,
// and reads the quiet one back after each: with its own command's position, with the busy
// stream's latest position (a write to another stream), and through search.
void read_back_while_writing(gateway_fixture& f, int per_second) {
  const auto word = fmt::format("ryw{}x{}", run_id(), per_second);
  const auto created = f.api.command("POST", "/v1/products", create_body(unique_sku("RYWQ"), 10, 1999, "Quiet " + word));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto quiet = result_of(created);
  const auto busy = f.api.created("RYWB", 10);
  paced_writer writer(f.api, busy.id, per_second);
  // Under way before the first read, so the reads meet the writes (not a timing: the writer
  // counts its answers).
  while (per_second > 0 && writer.written() < 3 && writer.refused() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::int64_t expected = 10;
  for (int round = 1; round <= rounds; ++round) {
    const auto restocked = f.api.restock(quiet.id, round);
    const auto acknowledged = std::chrono::steady_clock::now();
    INFO(describe(restocked));
    REQUIRE(restocked.status == 200);
    expected += round;
    const auto own = result_of(restocked);

    const auto read = f.api.read(quiet.id, "min_position=" + own.position);
    INFO("own position: ", describe(read));
    REQUIRE(read.status == 200);
    CHECK(stock_of(read) == expected);
    CHECK(version_of(read) == own.version);

    if (per_second > 0) {
      const auto later = writer.position_sent_after(acknowledged);
      REQUIRE_FALSE(later.empty());
      const auto elsewhere = f.api.read(quiet.id, "min_position=" + later);
      INFO("busy stream's position: ", describe(elsewhere));
      REQUIRE(elsewhere.status == 200);
      CHECK(stock_of(elsewhere) == expected);
    }

    const auto page = f.http.get(fmt::format("/v1/products?q={}&min_position={}", word, own.position));
    INFO("search: ", describe(page));
    REQUIRE(page.status == 200);
    CHECK(searched_stock(page) == expected);
  }
  CHECK(writer.refused() == 0);
  MESSAGE(fmt::format("{} restocks of the busy product at {}/s meanwhile", writer.written(), per_second));
}

}  // namespace

TEST_CASE_FIXTURE(gateway_fixture, "min_position reads of a quiet product answer with its write while nothing else is written") {
  read_back_while_writing(*this, 0);
}

TEST_CASE_FIXTURE(gateway_fixture, "min_position reads of a quiet product answer with its write while another takes 20 writes/s") {
  read_back_while_writing(*this, 20);
}

TEST_CASE_FIXTURE(gateway_fixture, "min_position reads of a quiet product answer with its write while another takes 200 writes/s") {
  read_back_while_writing(*this, 200);
}

}  // namespace cqrs::tests
