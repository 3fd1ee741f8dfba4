#include "tests/e2e_gateway/product_api.hpp"

#include <atomic>
#include <cctype>
#include <stdexcept>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

namespace cqrs::tests {

std::string unique_sku(const std::string& tag) {
  static std::atomic<int> counter{0};
  // SKUs are upper case (product rules): the run id is not.
  auto sku = fmt::format("{}-{}-{}", tag, run_id(), ++counter);
  for (auto& c : sku) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return sku;
}

std::string create_body(const std::string& sku, std::int64_t stock, std::int64_t price, const std::string& name) {
  boost::json::object body{{"sku", sku},
                           {"name", name},
                           {"description", "Made by the gateway e2e suite"},
                           {"price", boost::json::object{{"amount", price}, {"currency", "EUR"}}},
                           {"stock", stock}};
  return boost::json::serialize(body);
}

command_result result_of(const http_answer& answer) {
  const auto body_json = answer.json();
  const auto& body = body_json.as_object();
  return {std::string(body.at("id").as_string()), body.at("version").to_number<std::int64_t>(),
          std::string(body.at("position").as_string())};
}

std::string problem_code(const http_answer& answer) {
  if (!answer.is_problem()) return "";
  try {
    const auto body = answer.json();
    const auto* code = body.as_object().if_contains("code");
    return code != nullptr && code->is_string() ? std::string(code->as_string()) : "";
  } catch (const std::exception&) {
    return "";
  }
}

bool names_field(const http_answer& answer, const std::string& field) {
  try {
    const auto body = answer.json();
    const auto* errors = body.as_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) return false;
    for (const auto& error : errors->as_array()) {
      const auto* name = error.as_object().if_contains("field");
      if (name != nullptr && name->is_string() && name->as_string() == field) return true;
    }
  } catch (const std::exception&) {
  }
  return false;
}

http_answer product_api::create(const std::string& sku, std::int64_t stock, http_headers extra) const {
  return command("POST", "/v1/products", create_body(sku, stock), std::move(extra));
}

command_result product_api::created(const std::string& tag, std::int64_t stock) const {
  const auto answer = create(unique_sku(tag), stock);
  INFO(describe(answer));
  REQUIRE(answer.status == 201);
  return result_of(answer);
}

http_answer product_api::command(const std::string& method, const std::string& target,
                                 std::optional<std::string> body, http_headers extra) const {
  auto headers = bearer(engine_.admin_token());
  headers.insert(headers.end(), extra.begin(), extra.end());
  return http_.send({method, target, std::move(headers), std::move(body), std::nullopt});
}

http_answer product_api::restock(const std::string& id, std::int64_t quantity, http_headers extra) const {
  return command("POST", "/v1/products/" + id + "/restock", fmt::format(R"({{"quantity":{}}})", quantity),
                 std::move(extra));
}

http_answer product_api::reserve(const std::string& id, const std::string& reservation, std::int64_t quantity,
                                 http_headers extra) const {
  return command("POST", "/v1/products/" + id + "/reservations",
                 fmt::format(R"({{"reservation_id":"{}","quantity":{}}})", reservation, quantity), std::move(extra));
}

http_answer product_api::read(const std::string& id, const std::string& query) const {
  return http_.get("/v1/products/" + id + (query.empty() ? "" : "?" + query));
}

std::int64_t product_api::strong_version(const std::string& id) const {
  const auto answer = read(id, "consistency=strong");
  if (answer.status != 200) throw std::runtime_error("strong read failed: " + describe(answer));
  return answer.json().as_object().at("version").to_number<std::int64_t>();
}

std::size_t product_api::stored_events(const std::string& id) const {
  const auto answer = http_.get("/v1/streams/product-" + id + "/events?limit=100", bearer(engine_.admin_token()));
  if (answer.status != 200) throw std::runtime_error("history read failed: " + describe(answer));
  return answer.json().as_object().at("events").as_array().size();
}

}  // namespace cqrs::tests
