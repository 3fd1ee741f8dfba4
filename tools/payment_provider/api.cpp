#include "tools/payment_provider/api.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace cqrs::tools::payment_provider {

namespace json = boost::json;

namespace {

constexpr std::int64_t max_amount = 99'999'999'999;

api_response answer(unsigned status, const json::value& body) { return {status, json::serialize(body)}; }

// An error as application/problem+json, with a machine-readable code and, for bad input, the field.
api_response problem(unsigned status, std::string_view code, std::string_view detail, std::string_view field = {}) {
  json::object body{{"type", "about:blank"}, {"title", code}, {"status", status}, {"code", code}, {"detail", detail}};
  if (!field.empty()) body["field"] = field;
  auto out = answer(status, body);
  out.content_type = "application/problem+json";
  return out;
}

api_response invalid(std::string_view field, std::string_view detail) {
  return problem(400, "invalid_request", fmt::format("{}: {}", field, detail), field);
}

std::optional<json::value> parse_body(const std::string& body) {
  if (body.empty()) return json::value(json::object{});
  boost::system::error_code error;
  auto value = json::parse(body, error);
  if (error) return std::nullopt;
  return value;
}

bool valid_currency(std::string_view currency) {
  return currency.size() == 3 &&
         std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The path's segments after "/v1/charges": {} for the collection, {id} or {id, action}.
std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    if (slash != 0) out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::variant<charge_request, api_response> read_charge_request(const json::value& value, std::string key) {
  if (!value.is_object()) return invalid("body", "expected a JSON object");
  const auto& body = value.as_object();
  charge_request request;
  request.idempotency_key = std::move(key);
  const auto* amount = body.if_contains("amount");
  if (amount == nullptr || !amount->is_int64() || amount->as_int64() < 1 || amount->as_int64() > max_amount) {
    return invalid("amount", fmt::format("expected an integer amount in minor units, 1 to {}", max_amount));
  }
  request.amount = amount->as_int64();
  const auto* currency = body.if_contains("currency");
  if (currency == nullptr || !currency->is_string() || !valid_currency(currency->as_string())) {
    return invalid("currency", "expected a three-letter lowercase ISO 4217 code such as \"eur\"");
  }
  request.currency = std::string(currency->as_string());
  const auto* token = body.if_contains("card_token");
  if (token == nullptr || !token->is_string() || !card_for(token->as_string())) {
    return invalid("card_token", "expected one of tok_ok, tok_decline, tok_insufficient_funds, tok_pending");
  }
  request.card_token = std::string(token->as_string());
  if (const auto* capture = body.if_contains("capture")) {
    if (!capture->is_bool()) return invalid("capture", "expected true or false");
    request.capture = capture->as_bool();
  }
  const auto* metadata = body.if_contains("metadata");
  const auto* payment_id = metadata != nullptr && metadata->is_object() ? metadata->as_object().if_contains("payment_id")
                                                                        : nullptr;
  if (payment_id == nullptr || !payment_id->is_string() || payment_id->as_string().empty() ||
      payment_id->as_string().size() > 200) {
    return invalid("metadata.payment_id", "expected the payment's id, a string of 1 to 200 characters");
  }
  request.payment_id = std::string(payment_id->as_string());
  return request;
}

api_response refusal(ledger_errc error, const std::string& id, std::string_view action) {
  switch (error) {
    case ledger_errc::ok: break;
    case ledger_errc::not_found: return problem(404, "not_found", fmt::format("no charge {}", id));
    case ledger_errc::invalid_state:
      return problem(409, "invalid_state", fmt::format("charge {} cannot {} in its current status", id, action));
    case ledger_errc::amount_too_large:
      return problem(400, "amount_too_large", "refunds would exceed the captured amount", "amount");
  }
  return problem(500, "internal", "unexpected ledger outcome");
}

json::array charges_json(const std::vector<const charge*>& charges) {
  json::array out;
  for (const auto* c : charges) out.push_back(to_json(*c));
  return out;
}

json::object ledger_entry(const charge& c) {
  return {{"id", c.id},
          {"payment_id", c.payment_id},
          {"amount", c.amount},
          {"currency", c.currency},
          {"status", to_string(c.status)},
          {"idempotency_key", c.idempotency_key},
          {"amount_refunded", c.refunded}};
}

}  // namespace

bool is_payment_call(const api_request& request) { return request.target.starts_with("/v1/"); }

api_response provider_api::handle(const api_request& request, api_effects& effects) {
  if (request.method == "POST" && request.idempotency_key && is_payment_call(request)) {
    return idempotent(request, effects);
  }
  return route(request, effects);
}

// Stripe's rule: the first answer is stored and replayed for the same key; the same key with other
// parameters is refused. Requests refused before any work (400) or failing in the provider (5xx)
// are not stored, so a corrected or retried request runs.
api_response provider_api::idempotent(const api_request& request, api_effects& effects) {
  const auto& key = *request.idempotency_key;
  const auto parsed = parse_body(request.body);
  const auto fingerprint = fmt::format("{} {} {}", request.method, request.target,
                                       parsed ? json::serialize(*parsed) : request.body);
  if (const auto* stored = books_.answer_for(key)) {
    if (stored->fingerprint != fingerprint) {
      return problem(422, "idempotency_mismatch",
                     fmt::format("Idempotency-Key {} was first used with other parameters", key), "Idempotency-Key");
    }
    return {stored->status, stored->body, stored->status < 400 ? "application/json" : "application/problem+json",
            true};
  }
  auto out = route(request, effects);
  if (out.status != 400 && out.status < 500) books_.store_answer(key, {fingerprint, out.status, out.body});
  return out;
}

api_response provider_api::route(const api_request& request, api_effects& effects) {
  const auto url = boost::urls::parse_origin_form(request.target);
  if (!url) return invalid("target", "not a valid request target");
  const std::string path = url->path();
  if (path == "/healthz") return answer(200, json::object{{"status", "ok"}});
  if (path.starts_with("/_admin/")) return admin(request, path);
  if (!path.starts_with("/v1/charges")) return problem(404, "not_found", fmt::format("no route {}", path));
  const auto parts = segments(std::string_view(path).substr(std::string_view("/v1/charges").size()));
  if (parts.empty() && request.method == "POST") return create_charge(request, effects);
  if (parts.empty() && request.method == "GET") return list_charges(request.target);
  if (parts.size() == 1 && request.method == "GET") {
    const auto* c = books_.find(parts[0]);
    return c == nullptr ? problem(404, "not_found", fmt::format("no charge {}", parts[0])) : answer(200, to_json(*c));
  }
  if (parts.size() == 2 && request.method == "POST") return charge_action(request, parts[0], parts[1]);
  return problem(404, "not_found", fmt::format("no route {} {}", request.method, path));
}

api_response provider_api::admin(const api_request& request, const std::string& path) {
  if (path == "/_admin/ledger" && request.method == "GET") {
    json::array entries;
    for (const auto& c : books_.charges()) entries.push_back(ledger_entry(c));
    return answer(200, json::object{{"charges", std::move(entries)}});
  }
  if (path == "/_admin/ledger" && request.method == "DELETE") {
    books_.clear();
    return {204, ""};
  }
  if (path == "/_admin/faults" && request.method == "GET") return answer(200, to_json(faults_.settings()));
  if (path == "/_admin/faults" && request.method == "PUT") {
    const auto body = parse_body(request.body);
    if (!body) return invalid("body", "not valid JSON");
    auto parsed = parse_faults(*body);
    if (const auto* error = std::get_if<fault_error>(&parsed)) return invalid(error->field, error->message);
    faults_.set(std::get<fault_settings>(parsed));
    if (const auto* seed = body->as_object().if_contains("seed")) faults_.reseed(static_cast<std::uint64_t>(seed->as_int64()));
    return answer(200, to_json(faults_.settings()));
  }
  return problem(404, "not_found", fmt::format("no route {} {}", request.method, path));
}

api_response provider_api::create_charge(const api_request& request, api_effects& effects) {
  if (!request.idempotency_key || request.idempotency_key->empty() || request.idempotency_key->size() > 255) {
    return invalid("Idempotency-Key", "the header is required on POST /v1/charges (1 to 255 characters)");
  }
  const auto body = parse_body(request.body);
  if (!body) return invalid("body", "not valid JSON");
  auto parsed = read_charge_request(*body, *request.idempotency_key);
  if (auto* refused = std::get_if<api_response>(&parsed)) return std::move(*refused);
  const auto& c = books_.create(std::get<charge_request>(parsed));
  if (c.status == charge_status::pending) effects.to_settle.push_back(c.id);
  if (c.status != charge_status::declined) return answer(201, to_json(c));
  auto out = problem(402, c.failure_code, fmt::format("charge {} was declined", c.id));
  auto body_json = json::parse(out.body).as_object();
  body_json["charge"] = to_json(c);
  out.body = json::serialize(body_json);
  return out;
}

api_response provider_api::charge_action(const api_request& request, const std::string& id,
                                         const std::string& action) {
  const auto body = parse_body(request.body);
  if (!body || !body->is_object()) return invalid("body", "expected a JSON object");
  ledger_errc outcome = ledger_errc::ok;
  if (action == "capture") {
    outcome = books_.capture(id);
  } else if (action == "void") {
    outcome = books_.void_charge(id);
  } else if (action == "refunds") {
    std::optional<std::int64_t> amount;
    if (const auto* given = body->as_object().if_contains("amount")) {
      if (!given->is_int64() || given->as_int64() < 1) return invalid("amount", "expected an integer above 0");
      amount = given->as_int64();
    }
    outcome = books_.refund(id, amount);
  } else {
    return problem(404, "not_found", fmt::format("no action {} on charges", action));
  }
  if (outcome != ledger_errc::ok) return refusal(outcome, id, action);
  return answer(200, to_json(*books_.find(id)));
}

api_response provider_api::list_charges(const std::string& target) {
  const auto url = boost::urls::parse_origin_form(target);
  const auto params = url->params();
  if (const auto key = params.find("idempotency_key"); key != params.end()) {
    const auto* c = books_.find_by_idempotency_key((*key).value);
    return answer(200, json::object{{"data", c == nullptr ? json::array{} : json::array{to_json(*c)}}});
  }
  if (const auto payment = params.find("payment_id"); payment != params.end()) {
    return answer(200, json::object{{"data", charges_json(books_.find_by_payment_id((*payment).value))}});
  }
  return invalid("idempotency_key", "give idempotency_key or payment_id as a query parameter");
}

}  // namespace cqrs::tools::payment_provider
