#include <doctest/doctest.h>

#include <vector>

#include <boost/json/parse.hpp>

#include "tools/payment_provider/api.hpp"
#include "tools/payment_provider/faults.hpp"
#include "tools/payment_provider/ledger.hpp"

using namespace cqrs::tools::payment_provider;

namespace {

charge_request card(const char* token, bool capture, std::int64_t amount = 1000) {
  return {amount, "eur", token, capture, "pay-1", std::string("key-") + token};
}

std::vector<fault> draws(std::uint64_t seed, const fault_settings& settings, int n) {
  fault_injector injector(seed);
  injector.set(settings);
  std::vector<fault> out;
  for (int i = 0; i < n; ++i) out.push_back(injector.draw());
  return out;
}

}  // namespace

TEST_CASE("each test card token decides its charge") {
  ledger books;
  CHECK(books.create(card("tok_ok", true)).status == charge_status::captured);
  CHECK(books.create(card("tok_ok", false)).status == charge_status::authorized);
  const auto& declined = books.create(card("tok_decline", true));
  CHECK(declined.status == charge_status::declined);
  CHECK(declined.failure_code == "card_declined");
  CHECK(books.create(card("tok_insufficient_funds", true)).failure_code == "insufficient_funds");
  const auto pending_id = books.create(card("tok_pending", false)).id;
  CHECK(books.find(pending_id)->status == charge_status::pending);
  CHECK(books.capture(pending_id) == ledger_errc::invalid_state);
  REQUIRE(books.settle(pending_id) != nullptr);
  CHECK(books.find(pending_id)->status == charge_status::authorized);
  CHECK(books.settle(pending_id) == nullptr);
  CHECK(books.charges().size() == 5);
}

TEST_CASE("an authorization is captured or voided once; refunds never sum above the captured amount") {
  ledger books;
  const auto id = books.create(card("tok_ok", false)).id;
  CHECK(books.capture(id) == ledger_errc::ok);
  CHECK(books.capture(id) == ledger_errc::invalid_state);
  CHECK(books.void_charge(id) == ledger_errc::invalid_state);
  CHECK(books.refund(id, 1001) == ledger_errc::amount_too_large);
  CHECK(books.refund(id, 400) == ledger_errc::ok);
  CHECK(books.find(id)->status == charge_status::partially_refunded);
  CHECK(books.refund(id, 601) == ledger_errc::amount_too_large);
  CHECK(books.refund(id, std::nullopt) == ledger_errc::ok);
  CHECK(books.find(id)->status == charge_status::refunded);
  CHECK(books.find(id)->refunded == 1000);
  CHECK(books.refund(id, 1) == ledger_errc::invalid_state);
  const auto other = books.create(card("tok_ok", false)).id;
  CHECK(books.void_charge(other) == ledger_errc::ok);
  CHECK(books.refund(other, 1) == ledger_errc::invalid_state);
  CHECK(books.capture("ch_missing") == ledger_errc::not_found);
}

TEST_CASE("fault settings: absent fields are zero, bad ones are named, rates sum to at most 1") {
  const auto cleared = parse_faults(boost::json::parse("{}"));
  REQUIRE(std::holds_alternative<fault_settings>(cleared));
  CHECK(std::get<fault_settings>(cleared).error_rate == 0);
  const auto named = [](const char* text) {
    const auto parsed = parse_faults(boost::json::parse(text));
    return std::holds_alternative<fault_error>(parsed) ? std::get<fault_error>(parsed).field : std::string();
  };
  CHECK(named(R"({"error_rate": 1.5})") == "error_rate");
  CHECK(named(R"({"hang_rate": "x"})") == "hang_rate");
  CHECK(named(R"({"latency_ms": -1})") == "latency_ms");
  CHECK(named(R"({"lose_answer_rat": 0.1})") == "lose_answer_rat");
  CHECK(named(R"({"error_rate": 0.6, "timeout_rate": 0.6})") == "error_rate");
  CHECK(named("[]") == "body");
  CHECK(named(R"({"error_rate": 0.5, "timeout_rate": 0.5, "latency_ms": 10})").empty());
}

TEST_CASE("fault draws follow the rates and repeat for the same seed") {
  const fault_settings mixed{std::chrono::milliseconds(0), 0.25, 0.25, 0.25, 0.25};
  const auto first = draws(7, mixed, 400);
  CHECK(first == draws(7, mixed, 400));
  CHECK(first != draws(8, mixed, 400));
  for (const auto kind : {fault::error, fault::timeout, fault::hang, fault::lose_answer}) {
    const auto count = std::count(first.begin(), first.end(), kind);
    CHECK(count > 50);
    CHECK(count < 150);
  }
  const auto none = draws(7, fault_settings{}, 50);
  CHECK(std::count(none.begin(), none.end(), fault::none) == 50);
  fault_settings hang_only;
  hang_only.hang_rate = 1;
  const auto hangs = draws(3, hang_only, 50);
  CHECK(std::count(hangs.begin(), hangs.end(), fault::hang) == 50);
}

TEST_CASE("an answer stored under an idempotency key is replayed; other parameters are refused with 422") {
  ledger books;
  fault_injector faults(1);
  provider_api api(books, faults);
  api_effects effects;
  const std::string body = R"({"amount":700,"currency":"eur","card_token":"tok_pending","metadata":{"payment_id":"p"}})";
  const auto first = api.handle({"POST", "/v1/charges", "k", body}, effects);
  CHECK(first.status == 201);
  CHECK(effects.to_settle.size() == 1);
  api_effects again;
  const auto replay = api.handle({"POST", "/v1/charges", "k", body}, again);
  CHECK(replay.replayed);
  CHECK(replay.body == first.body);
  CHECK(again.to_settle.empty());
  const auto other = api.handle({"POST", "/v1/charges", "k", R"({"amount":701})"}, again);
  CHECK(other.status == 422);
  CHECK(books.charges().size() == 1);
}
