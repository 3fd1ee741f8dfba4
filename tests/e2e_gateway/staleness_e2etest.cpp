// Reads say how stale their read model is (Read-Model-Lag, gateway/read_model_lag.hpp), over real
// HTTP with the relay and projector running: with the projector paused, a product's reads keep the
// old value and say so (events behind, seconds growing); once it resumes, the header returns to 0.

#include <csignal>
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

using namespace std::chrono_literals;

struct staleness {
  std::string model;
  long events = 0;
  double seconds = 0;
};

std::optional<staleness> staleness_of(const http_answer& answer) {
  const auto header = answer.header("read-model-lag");
  if (!header) return std::nullopt;
  static const std::regex shape(R"re(^model="([a-z_0-9]+)", events=(\d+), seconds=(\d+\.\d), measured_ago=\d+\.\d(, at_least)?$)re");
  std::smatch m;
  if (!std::regex_match(*header, m, shape)) FAIL("a Read-Model-Lag header of another shape: " << *header);
  return staleness{m[1], std::stol(m[2]), std::stod(m[3])};
}

// Reads the product until `accept` holds for the answer; fails after `seconds`.
template <typename Accept>
http_answer read_until(const product_api& api, const std::string& id, Accept accept, std::chrono::seconds seconds,
                       const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + seconds;
  for (;;) {
    auto answer = api.read(id);
    if (answer.status == 200 && accept(answer)) return answer;
    if (std::chrono::steady_clock::now() >= deadline) FAIL(what << "; last answer " << answer.status << " "
                                                                << answer.header("read-model-lag").value_or("(none)"));
    std::this_thread::sleep_for(100ms);
  }
}

// Resumes the projector whatever the test did, so later test cases find it running.
struct resume_projector {
  engine_processes& engine;
  ~resume_projector() { engine.signal_projector(SIGCONT); }
};

}  // namespace

TEST_CASE_FIXTURE(gateway_fixture, "reads from a model that cannot advance say how far behind it is") {
  const auto product = api.created("stale", 5);
  read_until(api, product.id, [](const http_answer& a) {
    const auto s = staleness_of(a);
    return s && s->model == "product_detail" && s->events == 0;
  }, 30s, "the new product's read never came from a caught-up model");

  const resume_projector resume{engine};
  REQUIRE(engine.signal_projector(SIGSTOP));
  for (int i = 0; i < 3; ++i) REQUIRE(api.restock(product.id, 1).status == 200);

  // Still the old stock, and the header says the model is behind by the three restocks at least.
  const auto behind = read_until(api, product.id, [](const http_answer& a) {
    const auto s = staleness_of(a);
    return s && s->events >= 3 && s->seconds >= 1.0;
  }, 30s, "the header never said the paused model was behind");
  CHECK(behind.json().at("stock_available").as_int64() == 5);
  // Staleness grows while the model stands still (waited for: the lag is measured in the
  // background, so under load a single read may still carry an older measurement).
  const auto first = *staleness_of(behind);
  const auto later = read_until(api, product.id, [&](const http_answer& a) {
    const auto s = staleness_of(a);
    return s && s->seconds >= first.seconds + 1.0;
  }, 30s, "the paused model's staleness did not grow");
  CHECK(later.json().at("stock_available").as_int64() == 5);

  REQUIRE(engine.signal_projector(SIGCONT));
  const auto current = read_until(api, product.id, [](const http_answer& a) {
    const auto s = staleness_of(a);
    return s && s->events == 0 && a.json().at("stock_available").as_int64() == 8;
  }, 30s, "the model did not catch up, or the header did not return to 0");
  CHECK(staleness_of(current)->seconds == 0.0);
  // A strong read is folded from the store: no read model, no header.
  CHECK_FALSE(api.read(product.id, "consistency=strong").header("read-model-lag").has_value());
}

}  // namespace cqrs::tests
