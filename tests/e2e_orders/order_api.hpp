#pragma once

// The order and payment routes as the e2e tests call them: customers (tokens of their own),
// placing orders of products made for the test, reading with the consistency token, and the card
// processor's signed webhook.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/e2e_gateway/engine_processes.hpp"
#include "tests/e2e_gateway/http_client.hpp"
#include "tests/e2e_gateway/product_api.hpp"

namespace cqrs::tests {

struct order_line_spec {
  std::string product_id;
  std::int64_t quantity = 1;
};

// A placement's body: the lines, a valid address and the card token.
std::string place_body(const std::vector<order_line_spec>& lines, const std::string& card_token = "tok_ok");

// What a session keeps between requests: the consistency token of the last command answer, sent
// back as the cookie (as curl -b/-c does).
struct session {
  std::string token;  // bearer
  std::optional<std::string> cookie;
};

class order_api {
 public:
  explicit order_api(engine_processes& engine) : engine_(engine), http_(engine.http()), products_(engine) {}

  // A new customer's session: a subject of its own with role customer.
  session customer() const;
  session staff(const std::string& role) const;

  // A product of price `price` EUR cents and `stock` units; its id.
  std::string product(std::int64_t stock = 100, std::int64_t price = 1250) const;

  // As `s`; the answer's consistency cookie is kept in `s`.
  http_answer send(session& s, const std::string& method, const std::string& target,
                   std::optional<std::string> body = std::nullopt, http_headers extra = {}) const;
  http_answer place(session& s, const std::vector<order_line_spec>& lines, const std::string& card = "tok_ok") const;
  // Places and REQUIREs 202; the order's id.
  std::string placed(session& s, const std::vector<order_line_spec>& lines, const std::string& card = "tok_ok") const;
  // GET /v1/orders/{id} as `s` (with its cookie); the order's body when 200.
  boost::json::object order(session& s, const std::string& id) const;

  // POST /v1/payments/provider-events signed with the stack's secret (`timestamp` 0: now).
  http_answer webhook(const std::string& body, std::int64_t timestamp = 0, const std::string& secret = {}) const;
  // A provider event body: charge `charge` of `payment_id` now in `status`.
  static std::string provider_event(const std::string& event_id, const std::string& payment_id,
                                    const std::string& status, const std::string& charge = "ch_e2e");

  const product_api& products() const { return products_; }

 private:
  engine_processes& engine_;
  const http_client& http_;
  product_api products_;
};

// The value of the consistency cookie a Set-Cookie header sets, if it is that cookie.
std::optional<std::string> consistency_cookie(const http_answer& answer);

// A string member of a JSON object (an order's `status`, a ledger entry's `payment_id`...).
std::string text_at(const boost::json::object& o, std::string_view name);

}  // namespace cqrs::tests
