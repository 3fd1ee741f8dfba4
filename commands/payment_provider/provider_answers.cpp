#include "commands/payment_provider/provider_answers.hpp"

#include <array>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

namespace cqrs::commands::payment_provider {

namespace json = boost::json;

namespace {

constexpr std::array<std::pair<charge_status, std::string_view>, 7> status_names{{
    {charge_status::authorized, "authorized"},
    {charge_status::captured, "captured"},
    {charge_status::pending, "pending"},
    {charge_status::declined, "declined"},
    {charge_status::voided, "voided"},
    {charge_status::refunded, "refunded"},
    {charge_status::partially_refunded, "partially_refunded"},
}};

std::optional<json::value> parse(std::string_view text) {
  boost::system::error_code error;
  auto value = json::parse(text, error);
  if (error) return std::nullopt;
  return value;
}

std::string_view string_member(const json::object& object, std::string_view key) {
  const auto* member = object.if_contains(key);
  return member != nullptr && member->is_string() ? std::string_view(member->as_string()) : std::string_view{};
}

std::int64_t amount_member(const json::object& object, std::string_view key) {
  const auto* member = object.if_contains(key);
  return member != nullptr && member->is_int64() ? member->as_int64() : 0;
}

std::optional<charge_answer> charge_from(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  const auto id = string_member(object, "id");
  const auto status = parse_charge_status(string_member(object, "status"));
  if (id.empty() || !status) return std::nullopt;
  return charge_answer{std::string(id), *status, std::string(string_member(object, "failure_code")),
                       amount_member(object, "amount"), amount_member(object, "amount_refunded")};
}

transient unreadable(unsigned status, std::string_view body) {
  return {fmt::format("the provider's {} answer is not what its API promises: {:.200}", status, body), false, std::nullopt};
}

[[noreturn]] void refuse(unsigned status, std::string_view body) {
  const auto problem = parse(body);
  const auto* object = problem && problem->is_object() ? &problem->as_object() : nullptr;
  throw provider_refused(status, object != nullptr ? std::string(string_member(*object, "code")) : "",
                         object != nullptr ? std::string(string_member(*object, "detail")) : std::string(body.substr(0, 200)));
}

}  // namespace

std::string_view to_string(charge_status status) {
  for (const auto& [value, name] : status_names) {
    if (value == status) return name;
  }
  return "unknown";
}

std::optional<charge_status> parse_charge_status(std::string_view text) {
  for (const auto& [value, name] : status_names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

provider_refused::provider_refused(unsigned status, std::string code, const std::string& detail)
    : std::runtime_error(fmt::format("the payment provider refused the request: {} {}: {}", status, code, detail)),
      status_(status),
      code_(std::move(code)) {}

std::string charge_key(std::string_view payment_id) { return fmt::format("{}:charge", payment_id); }
std::string capture_key(std::string_view payment_id) { return fmt::format("{}:capture", payment_id); }
std::string void_key(std::string_view payment_id) { return fmt::format("{}:void", payment_id); }
std::string refund_key(std::string_view payment_id, std::string_view refund_id) {
  return fmt::format("{}:refund:{}", payment_id, refund_id);
}

std::optional<charge_answer> read_charge(std::string_view text) {
  const auto value = parse(text);
  return value ? charge_from(*value) : std::nullopt;
}

call_result read_call_answer(unsigned status, std::string_view body) {
  if (status >= 500) return transient{fmt::format("the provider answered {}: {:.200}", status, body), false, std::nullopt};
  if (status == 402) {
    const auto problem = parse(body);
    const auto* charge = problem && problem->is_object() ? problem->as_object().if_contains("charge") : nullptr;
    auto declined = charge != nullptr ? charge_from(*charge) : std::nullopt;
    if (!declined || declined->status != charge_status::declined) return unreadable(status, body);
    return *declined;
  }
  if (status < 200 || status >= 300) refuse(status, body);
  if (auto answer = read_charge(body)) return *answer;
  return unreadable(status, body);
}

find_result read_find_answer(unsigned status, std::string_view body) {
  if (status >= 500) return transient{fmt::format("the provider answered {}: {:.200}", status, body), false, std::nullopt};
  if (status < 200 || status >= 300) refuse(status, body);
  const auto value = parse(body);
  const auto* data = value && value->is_object() ? value->as_object().if_contains("data") : nullptr;
  if (data == nullptr || !data->is_array()) return unreadable(status, body);
  if (data->as_array().empty()) return std::optional<charge_answer>{};
  auto answer = charge_from(data->as_array().front());
  if (!answer) return unreadable(status, body);
  return std::optional<charge_answer>{std::move(*answer)};
}

}  // namespace cqrs::commands::payment_provider
