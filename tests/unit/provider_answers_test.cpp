// commands/payment_provider/provider_answers.hpp: the idempotency keys and the reading of the card
// processor's answers (the bodies as cqrs-payment-provider writes them, docs/payment-provider.md).

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "commands/payment_provider/provider_answers.hpp"

using namespace cqrs::commands::payment_provider;

namespace {

constexpr const char* authorized_charge =
    R"({"id":"ch_000001","status":"authorized","amount":2500,"currency":"eur","captured":false,"amount_refunded":0,)"
    R"("refunds":[],"idempotency_key":"payment-1:charge","metadata":{"payment_id":"payment-1"}})";

charge_answer answer_of(const call_result& result) {
  REQUIRE(std::holds_alternative<charge_answer>(result));
  return std::get<charge_answer>(result);
}

}  // namespace

TEST_CASE("each thing done once per payment has its own idempotency key") {
  CHECK(charge_key("payment-1") == "payment-1:charge");
  CHECK(capture_key("payment-1") == "payment-1:capture");
  CHECK(void_key("payment-1") == "payment-1:void");
  CHECK(refund_key("payment-1", "r-7") == "payment-1:refund:r-7");
  CHECK(refund_key("payment-1", "r-7") != refund_key("payment-1", "r-8"));
}

TEST_CASE("every charge status reads back from its name, and nothing else does") {
  for (const auto status : {charge_status::authorized, charge_status::captured, charge_status::pending,
                            charge_status::declined, charge_status::voided, charge_status::refunded,
                            charge_status::partially_refunded}) {
    CHECK(parse_charge_status(to_string(status)) == status);
  }
  CHECK_FALSE(parse_charge_status("Captured"));
  CHECK_FALSE(parse_charge_status(""));
}

TEST_CASE("a 2xx answer is the charge it describes") {
  const auto answer = answer_of(read_call_answer(201, authorized_charge));
  CHECK(answer.charge_id == "ch_000001");
  CHECK(answer.status == charge_status::authorized);
  CHECK(answer.decline_code.empty());
}

TEST_CASE("a decline (402) is a definitive answer carrying the declined charge and its code") {
  const auto body =
      R"({"type":"about:blank","title":"card_declined","status":402,"code":"card_declined","detail":"declined",)"
      R"("charge":{"id":"ch_000002","status":"declined","amount":2500,"currency":"eur","failure_code":"insufficient_funds"}})";
  const auto answer = answer_of(read_call_answer(402, body));
  CHECK(answer.charge_id == "ch_000002");
  CHECK(answer.status == charge_status::declined);
  CHECK(answer.decline_code == "insufficient_funds");
}

TEST_CASE("a 5xx and an answer that is not what the API promises are transient, never not_permitted") {
  for (const auto& [status, body] : std::vector<std::pair<unsigned, std::string>>{
           {500, R"({"code":"provider_error"})"},
           {503, ""},
           {201, "not json"},
           {201, R"({"id":"ch_1","status":"teleported"})"},
           {200, R"({"status":"captured"})"},
           {402, R"({"code":"card_declined"})"}}) {
    const auto result = read_call_answer(status, body);
    REQUIRE(std::holds_alternative<transient>(result));
    CHECK_FALSE(std::get<transient>(result).why.empty());
    CHECK_FALSE(std::get<transient>(result).not_permitted);
  }
}

TEST_CASE("a refusal of the request itself (other 4xx) is thrown with its status and code") {
  const auto body = R"({"type":"about:blank","title":"invalid_state","status":409,"code":"invalid_state","detail":"not authorized"})";
  try {
    (void)read_call_answer(409, body);
    FAIL("no exception");
  } catch (const provider_refused& refused) {
    CHECK(refused.status() == 409);
    CHECK(refused.code() == "invalid_state");
  }
  CHECK_THROWS_AS((void)read_call_answer(422, R"({"code":"idempotency_mismatch"})"), provider_refused);
  CHECK_THROWS_AS((void)read_call_answer(404, "gone"), provider_refused);
}

TEST_CASE("a lookup by key answers the charge, none, or transient") {
  const auto found = read_find_answer(200, std::string(R"({"data":[)") + authorized_charge + "]}");
  REQUIRE(std::holds_alternative<std::optional<charge_answer>>(found));
  REQUIRE(std::get<std::optional<charge_answer>>(found).has_value());
  CHECK(std::get<std::optional<charge_answer>>(found)->charge_id == "ch_000001");

  const auto none = read_find_answer(200, R"({"data":[]})");
  REQUIRE(std::holds_alternative<std::optional<charge_answer>>(none));
  CHECK_FALSE(std::get<std::optional<charge_answer>>(none).has_value());

  CHECK(std::holds_alternative<transient>(read_find_answer(500, "")));
  CHECK(std::holds_alternative<transient>(read_find_answer(200, R"({"data":{}})")));
  CHECK(std::holds_alternative<transient>(read_find_answer(200, R"({"data":[{"id":"x"}]})")));
}

TEST_CASE("read_charge takes a charge object and nothing else") {
  REQUIRE(read_charge(authorized_charge));
  CHECK(read_charge(authorized_charge)->status == charge_status::authorized);
  CHECK_FALSE(read_charge("[]"));
  CHECK_FALSE(read_charge(R"({"id":5,"status":"captured"})"));
  CHECK_FALSE(read_charge(""));
}

TEST_CASE("a charge's amount and what its refunds sum to are read; absent, they are 0") {
  const auto partly = read_charge(
      R"({"id":"ch_000002","status":"partially_refunded","amount":2500,"currency":"eur","amount_refunded":700})");
  REQUIRE(partly.has_value());
  CHECK(partly->status == charge_status::partially_refunded);
  CHECK(partly->amount_minor == 2500);
  CHECK(partly->refunded_minor == 700);
  const auto bare = read_charge(R"({"id":"ch_000003","status":"captured"})");
  REQUIRE(bare.has_value());
  CHECK(bare->amount_minor == 0);
  CHECK(bare->refunded_minor == 0);
}
