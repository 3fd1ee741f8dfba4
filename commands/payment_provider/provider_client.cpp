#include "commands/payment_provider/provider_client.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

namespace cqrs::commands::payment_provider {

namespace json = boost::json;
namespace res = core::resilience;
using core::http_reply;

namespace {

constexpr std::string_view url_variable = "CQRS_PAYMENT_PROVIDER_URL";

json::object metadata(std::string_view payment_id) {
  return json::object{{"payment_id", json::string(payment_id)}};
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Everything but unreserved characters percent-encoded: a key in a query string.
std::string query_escape(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// What the breaker counts: an answer below 500 is the processor working (a decline too).
res::call_kind classify(const http_reply& reply) {
  return reply.result == http_reply::outcome::answered && reply.status < 500 ? res::call_kind::success
                                                                            : res::call_kind::failure;
}

transient no_answer(const http_reply& reply) {
  return {fmt::format("no answer from the payment provider ({}): {}", to_string(reply.result), reply.error), false,
          std::nullopt};
}

transient refused(const res::refusal& refusal) {
  return {fmt::format("not permitted: {} (retry after {} ms)", res::to_string(refusal.reason), refusal.retry_after.count()),
          true, refusal};
}

}  // namespace

std::vector<core::setting_spec> client_settings() {
  std::vector<core::setting_spec> specs = {
      {std::string(url_variable), "", "https:// address of the card processor (required)"},
      {"CQRS_PAYMENT_PROVIDER_CA_FILE", "", "PEM file of the CA the processor's certificate must chain to (empty: "
                                            "the system's trust store)"},
      {"CQRS_PAYMENT_PROVIDER_CONNECT_TIMEOUT_MS", "2000", "limit of connect and TLS handshake of one attempt"},
  };
  auto resilience = res::settings_for(resilience_instance);
  specs.insert(specs.end(), resilience.begin(), resilience.end());
  return specs;
}

client_config load_client_config(const core::settings_source& source) {
  client_config config;
  if (!source.raw(url_variable)) throw core::config_error(std::string(url_variable), "is required");
  config.url = source.url(url_variable, "", {"https"});
  config.ca_file = source.text("CQRS_PAYMENT_PROVIDER_CA_FILE", "");
  config.connect_timeout = source.milliseconds("CQRS_PAYMENT_PROVIDER_CONNECT_TIMEOUT_MS", config.connect_timeout,
                                               std::chrono::milliseconds(1), std::chrono::milliseconds(60'000));
  config.resilience = res::load_instance_config(resilience_instance, source);
  return config;
}

provider_client::provider_client(client_config config, const core::logger& log, test_hooks hooks)
    : config_(std::move(config)),
      log_(log.child("payment-provider-client")),
      endpoint_(core::parse_http_endpoint(config_.url)),
      http_({.ca_file = config_.ca_file, .connect_timeout = config_.connect_timeout}),
      pipeline_(std::string(resilience_instance), config_.resilience, metrics_, log, std::move(hooks.clock),
                std::move(hooks.sleep)) {}

res::guarded<http_reply> provider_client::send(const core::http_call& call) {
  // Every call is safe to repeat: the processor deduplicates on the key (GETs change nothing).
  return pipeline_.execute(
      res::retry_safety::idempotency_key,
      [&](const res::attempt_context& attempt) { return http_.send(endpoint_, call, attempt.deadline); }, classify);
}

call_result provider_client::post(std::string target, std::string body, std::string_view idempotency_key) {
  core::http_call call{"POST", std::move(target), {{"Idempotency-Key", std::string(idempotency_key)}}, std::move(body)};
  const auto outcome = send(call);
  if (const auto* refusal = std::get_if<res::refusal>(&outcome)) return refused(*refusal);
  const auto& reply = std::get<http_reply>(outcome);
  call_result result = reply.result == http_reply::outcome::answered ? read_call_answer(reply.status, reply.body)
                                                                      : call_result{no_answer(reply)};
  if (const auto* failed = std::get_if<transient>(&result)) {
    log_.warn("payment provider call failed", {{"target", call.target}, {"key", idempotency_key}, {"why", failed->why}});
  }
  return result;
}

call_result provider_client::charge(std::string_view payment_id, const schemas::money& amount, std::string_view card_token,
                                    std::string_view idempotency_key) {
  const json::object body{{"amount", amount.amount_minor},
                          {"currency", lowercase(amount.currency.value())},
                          {"card_token", json::string(card_token)},
                          {"capture", false},
                          {"metadata", metadata(payment_id)}};
  return post("/v1/charges", json::serialize(body), idempotency_key);
}

call_result provider_client::capture(std::string_view payment_id, std::string_view charge_id,
                                     std::string_view idempotency_key) {
  return post(fmt::format("/v1/charges/{}/capture", query_escape(charge_id)),
              json::serialize(json::object{{"metadata", metadata(payment_id)}}), idempotency_key);
}

call_result provider_client::void_charge(std::string_view payment_id, std::string_view charge_id,
                                         std::string_view idempotency_key) {
  return post(fmt::format("/v1/charges/{}/void", query_escape(charge_id)),
              json::serialize(json::object{{"metadata", metadata(payment_id)}}), idempotency_key);
}

call_result provider_client::refund(std::string_view payment_id, std::string_view charge_id, std::string_view refund_id,
                                    const schemas::money& amount, std::string_view idempotency_key) {
  const json::object body{{"amount", amount.amount_minor},
                          {"metadata", json::object{{"payment_id", json::string(payment_id)},
                                                    {"refund_id", json::string(refund_id)}}}};
  return post(fmt::format("/v1/charges/{}/refunds", query_escape(charge_id)), json::serialize(body), idempotency_key);
}

find_result provider_client::find_charge(std::string_view idempotency_key) {
  const core::http_call call{"GET", "/v1/charges?idempotency_key=" + query_escape(idempotency_key), {}, {}};
  const auto outcome = send(call);
  if (const auto* refusal = std::get_if<res::refusal>(&outcome)) return refused(*refusal);
  const auto& reply = std::get<http_reply>(outcome);
  if (reply.result != http_reply::outcome::answered) return no_answer(reply);
  return read_find_answer(reply.status, reply.body);
}

std::string provider_client::metrics_text() const { return metrics_.render(); }

}  // namespace cqrs::commands::payment_provider
