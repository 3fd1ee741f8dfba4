#include "tools/payment_provider/faults.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace cqrs::tools::payment_provider {

namespace {

constexpr std::array<std::string_view, 4> rate_fields = {"error_rate", "timeout_rate", "hang_rate",
                                                         "lose_answer_rate"};
constexpr std::array<std::string_view, 6> known_fields = {"latency_ms", "error_rate", "timeout_rate", "hang_rate",
                                                          "lose_answer_rate", "seed"};

double* rate_of(fault_settings& settings, std::string_view field) {
  if (field == "error_rate") return &settings.error_rate;
  if (field == "timeout_rate") return &settings.timeout_rate;
  if (field == "hang_rate") return &settings.hang_rate;
  return &settings.lose_answer_rate;
}

std::optional<double> number(const boost::json::value& value) {
  if (value.is_int64()) return static_cast<double>(value.as_int64());
  if (value.is_uint64()) return static_cast<double>(value.as_uint64());
  if (value.is_double()) return value.as_double();
  return std::nullopt;
}

}  // namespace

std::string_view to_string(fault f) {
  switch (f) {
    case fault::none: return "none";
    case fault::error: return "error";
    case fault::timeout: return "timeout";
    case fault::hang: return "hang";
    case fault::lose_answer: return "lose_answer";
  }
  return "unknown";
}

std::variant<fault_settings, fault_error> parse_faults(const boost::json::value& body) {
  if (!body.is_object()) return fault_error{"body", "expected a JSON object"};
  const auto& object = body.as_object();
  for (const auto& entry : object) {
    if (std::find(known_fields.begin(), known_fields.end(), entry.key()) == known_fields.end()) {
      return fault_error{std::string(entry.key()), "unknown field"};
    }
  }
  fault_settings settings;
  if (const auto* latency = object.if_contains("latency_ms")) {
    if (!latency->is_int64() || latency->as_int64() < 0 || latency->as_int64() > 600'000) {
      return fault_error{"latency_ms", "expected an integer between 0 and 600000"};
    }
    settings.latency = std::chrono::milliseconds(latency->as_int64());
  }
  double sum = 0;
  for (const auto field : rate_fields) {
    const auto* value = object.if_contains(field);
    if (value == nullptr) continue;
    const auto rate = number(*value);
    if (!rate || *rate < 0 || *rate > 1) return fault_error{std::string(field), "expected a number between 0 and 1"};
    *rate_of(settings, field) = *rate;
    sum += *rate;
  }
  if (sum > 1.0 + 1e-9) return fault_error{"error_rate", fmt::format("the rates sum to {}, above 1", sum)};
  if (const auto* seed = object.if_contains("seed"); seed != nullptr && (!seed->is_int64() || seed->as_int64() < 0)) {
    return fault_error{"seed", "expected a non-negative integer"};
  }
  return settings;
}

boost::json::object to_json(const fault_settings& settings) {
  return {{"latency_ms", settings.latency.count()},      {"error_rate", settings.error_rate},
          {"timeout_rate", settings.timeout_rate},       {"hang_rate", settings.hang_rate},
          {"lose_answer_rate", settings.lose_answer_rate}};
}

fault fault_injector::draw() {
  const double total = settings_.error_rate + settings_.timeout_rate + settings_.hang_rate + settings_.lose_answer_rate;
  if (total <= 0) return fault::none;
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const std::array<std::pair<double, fault>, 4> bands = {{{settings_.error_rate, fault::error},
                                                          {settings_.timeout_rate, fault::timeout},
                                                          {settings_.hang_rate, fault::hang},
                                                          {settings_.lose_answer_rate, fault::lose_answer}}};
  double edge = 0;
  for (const auto& [rate, kind] : bands) {
    edge += rate;
    if (u < edge) return kind;
  }
  return fault::none;
}

}  // namespace cqrs::tools::payment_provider
