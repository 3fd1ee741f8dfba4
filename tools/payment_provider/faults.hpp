#pragma once

// Injected faults (PUT /_admin/faults): a latency added to every call of the /v1 API, and per call
// at most one of: an error (500, nothing done), a timeout (done, answered only after the
// configured timeout delay), a hang (nothing done, the connection held open and never answered)
// or a lost answer (done, the connection closed without an answer). Drawn from a seeded generator,
// so a run with the same seed and the same calls meets the same faults.

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace cqrs::tools::payment_provider {

struct fault_settings {
  std::chrono::milliseconds latency{0};
  double error_rate = 0;
  double timeout_rate = 0;
  double hang_rate = 0;
  double lose_answer_rate = 0;
};

enum class fault { none, error, timeout, hang, lose_answer };
std::string_view to_string(fault f);

// A field the admin API refused, and why.
struct fault_error {
  std::string field;
  std::string message;
};

// {"latency_ms", "error_rate", "timeout_rate", "hang_rate", "lose_answer_rate", "seed"}, each
// optional (absent: 0, so {} clears them all); rates 0..1 summing to at most 1.
std::variant<fault_settings, fault_error> parse_faults(const boost::json::value& body);
boost::json::object to_json(const fault_settings& settings);

class fault_injector {
 public:
  explicit fault_injector(std::uint64_t seed) : random_(seed) {}

  void set(const fault_settings& settings) { settings_ = settings; }
  void reseed(std::uint64_t seed) { random_.seed(seed); }
  const fault_settings& settings() const { return settings_; }
  // One draw per call of the /v1 API.
  fault draw();

 private:
  fault_settings settings_;
  std::mt19937_64 random_;
};

}  // namespace cqrs::tools::payment_provider
