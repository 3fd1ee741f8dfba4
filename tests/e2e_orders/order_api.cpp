#include "tests/e2e_orders/order_api.hpp"

#include <atomic>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/security/webhook_signature.hpp"

namespace cqrs::tests {

namespace json = boost::json;

std::string place_body(const std::vector<order_line_spec>& lines, const std::string& card_token) {
  json::array items;
  for (const auto& line : lines) items.push_back(json::object{{"product_id", line.product_id}, {"quantity", line.quantity}});
  const json::object body{{"lines", std::move(items)},
                          {"shipping_address",
                           {{"line1", "1 Main Street"}, {"city", "Springfield"}, {"postal_code", "12345"}, {"country", "US"}}},
                          {"payment", {{"card_token", card_token}}}};
  return json::serialize(body);
}

std::optional<std::string> consistency_cookie(const http_answer& answer) {
  const auto cookie = answer.header("set-cookie");
  const std::string prefix = "Consistency-Token=";
  if (!cookie || cookie->rfind(prefix, 0) != 0) return std::nullopt;
  return cookie->substr(prefix.size(), cookie->find(';') - prefix.size());
}

session order_api::customer() const {
  static std::atomic<int> counter{0};
  return {engine_.token(fmt::format("customer-{}-{}", run_id(), ++counter), {"customer"}), std::nullopt};
}

session order_api::staff(const std::string& role) const {
  return {engine_.token(fmt::format("{}-{}", role, run_id()), {role}), std::nullopt};
}

std::string order_api::product(std::int64_t stock, std::int64_t price) const {
  const auto answer = products_.command("POST", "/v1/products", create_body(unique_sku("ORD"), stock, price));
  INFO(describe(answer));
  REQUIRE(answer.status == 201);
  return result_of(answer).id;
}

http_answer order_api::send(session& s, const std::string& method, const std::string& target,
                            std::optional<std::string> body, http_headers extra) const {
  auto headers = s.token.empty() ? http_headers{} : bearer(s.token);
  if (s.cookie) headers.emplace_back("Cookie", "Consistency-Token=" + *s.cookie);
  headers.insert(headers.end(), extra.begin(), extra.end());
  auto answer = http_.send({method, target, std::move(headers), std::move(body), std::nullopt});
  if (auto cookie = consistency_cookie(answer)) s.cookie = std::move(cookie);
  return answer;
}

http_answer order_api::place(session& s, const std::vector<order_line_spec>& lines, const std::string& card) const {
  return send(s, "POST", "/v1/orders", place_body(lines, card));
}

std::string order_api::placed(session& s, const std::vector<order_line_spec>& lines, const std::string& card) const {
  const auto answer = place(s, lines, card);
  INFO(describe(answer));
  REQUIRE(answer.status == 202);
  return std::string(answer.json().at("id").as_string());
}

json::object order_api::order(session& s, const std::string& id) const {
  const auto answer = send(s, "GET", "/v1/orders/" + id);
  INFO(describe(answer));
  REQUIRE(answer.status == 200);
  return answer.json().as_object();
}

http_answer order_api::webhook(const std::string& body, std::int64_t timestamp, const std::string& secret) const {
  const auto key = secret.empty() ? stack_env("CQRS_PAYMENT_WEBHOOK_SECRET") : secret;
  const auto at = timestamp == 0 ? core::security::unix_now() : timestamp;
  return http_.send({"POST",
                     "/v1/payments/provider-events",
                     {{"Provider-Signature", core::security::sign_webhook(key, at, body)}},
                     body,
                     std::nullopt});
}

std::string order_api::provider_event(const std::string& event_id, const std::string& payment_id,
                                      const std::string& status, const std::string& charge) {
  const json::object body{{"id", event_id},
                          {"type", "charge.settled"},
                          {"created", core::security::unix_now()},
                          {"data",
                           {{"id", charge},
                            {"status", status},
                            {"amount", 1250},
                            {"currency", "eur"},
                            {"metadata", {{"payment_id", payment_id}}}}}};
  return json::serialize(body);
}

std::string text_at(const json::object& o, std::string_view name) { return std::string(o.at(name).as_string()); }

}  // namespace cqrs::tests
