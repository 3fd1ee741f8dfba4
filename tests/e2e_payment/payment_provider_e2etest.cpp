// cqrs-payment-provider as the engine will meet it: the real process over HTTP, each test case
// with a provider of its own.

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/security/webhook_signature.hpp"
#include "tests/e2e_payment/provider_harness.hpp"
#include "tests/support/polling.hpp"

using namespace cqrs::tests::payment;
using namespace std::chrono_literals;
namespace json = boost::json;
using outcome = reply::outcome;
using cqrs::core::security::verify_webhook;

namespace {

std::string charge_body(const std::string& token, std::int64_t amount = 2500, bool capture = true,
                        const std::string& payment_id = "pay-1") {
  return fmt::format(R"({{"amount":{},"currency":"eur","card_token":"{}","capture":{},"metadata":{{"payment_id":"{}"}}}})",
                     amount, token, capture ? "true" : "false", payment_id);
}

reply charge(const provider_process& p, const std::string& key, const std::string& body,
             std::chrono::milliseconds deadline = 5s) {
  return call(p.port(), "POST", "/v1/charges", body, key, deadline);
}

json::array ledger(const provider_process& p) {
  const auto r = call(p.port(), "GET", "/_admin/ledger");
  REQUIRE(r.status == 200);
  return r.json().at("charges").as_array();
}

void set_faults(const provider_process& p, const std::string& faults) {
  const auto r = call(p.port(), "PUT", "/_admin/faults", faults);
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

std::string text(const json::value& v, const char* key) { return std::string(v.at(key).as_string()); }

}  // namespace

TEST_CASE("the same Idempotency-Key gets the stored answer and makes no second ledger entry") {
  const provider_process p;
  const auto first = charge(p, "pay-1:charge", charge_body("tok_ok"));
  REQUIRE(first.status == 201);
  CHECK_FALSE(first.replayed);
  CHECK(text(first.json(), "status") == "captured");
  const auto again = charge(p, "pay-1:charge", charge_body("tok_ok"));
  CHECK(again.status == 201);
  CHECK(again.replayed);
  CHECK(again.body == first.body);
  const auto entries = ledger(p);
  REQUIRE(entries.size() == 1);
  CHECK(text(entries[0], "payment_id") == "pay-1");
  CHECK(text(entries[0], "idempotency_key") == "pay-1:charge");
  CHECK(entries[0].at("amount").as_int64() == 2500);
  CHECK(text(entries[0], "currency") == "eur");
  CHECK(text(entries[0], "status") == "captured");
}

TEST_CASE("the same Idempotency-Key with other parameters is refused with 422 and changes nothing") {
  const provider_process p;
  REQUIRE(charge(p, "k", charge_body("tok_ok", 2500)).status == 201);
  const auto other = charge(p, "k", charge_body("tok_ok", 2600));
  CHECK(other.status == 422);
  CHECK(text(other.json(), "code") == "idempotency_mismatch");
  CHECK(ledger(p).size() == 1);
  // The same key on another operation is other parameters too.
  CHECK(call(p.port(), "POST", "/v1/charges/ch_000001/refunds", "{}", "k").status == 422);
}

TEST_CASE("each test card token has its outcome, and a declined attempt is a ledger entry") {
  const provider_process p;
  const auto ok = charge(p, "a", charge_body("tok_ok", 100, false, "pay-a"));
  CHECK(ok.status == 201);
  CHECK(text(ok.json(), "status") == "authorized");
  const auto declined = charge(p, "b", charge_body("tok_decline", 100, true, "pay-b"));
  CHECK(declined.status == 402);
  CHECK(text(declined.json(), "code") == "card_declined");
  CHECK(text(declined.json().at("charge"), "status") == "declined");
  const auto poor = charge(p, "c", charge_body("tok_insufficient_funds", 100, true, "pay-c"));
  CHECK(poor.status == 402);
  CHECK(text(poor.json(), "code") == "insufficient_funds");
  const auto pending = charge(p, "d", charge_body("tok_pending", 100, true, "pay-d"));
  CHECK(pending.status == 201);
  CHECK(text(pending.json(), "status") == "pending");
  // A declined answer is stored like any other: the retry gets the same 402.
  const auto retried = charge(p, "b", charge_body("tok_decline", 100, true, "pay-b"));
  CHECK(retried.status == 402);
  CHECK(retried.replayed);
  const auto entries = ledger(p);
  REQUIRE(entries.size() == 4);
  CHECK(text(entries[0], "status") == "authorized");
  CHECK(text(entries[1], "status") == "declined");
  CHECK(text(entries[2], "status") == "declined");
  CHECK(text(entries[3], "status") == "pending");
}

TEST_CASE("capture, void and refunds move one ledger entry; refunds never sum above the captured amount") {
  const provider_process p;
  const auto id = text(charge(p, "auth", charge_body("tok_ok", 1000, false)).json(), "id");
  const auto path = "/v1/charges/" + id;
  CHECK(call(p.port(), "POST", path + "/refunds", "{}", "r0").status == 409);  // not captured yet
  const auto captured = call(p.port(), "POST", path + "/capture", "", "cap");
  CHECK(captured.status == 200);
  CHECK(text(captured.json(), "status") == "captured");
  CHECK(call(p.port(), "POST", path + "/capture", "", "cap").replayed);  // the engine's retry
  CHECK(call(p.port(), "POST", path + "/capture", "", "cap-2").status == 409);
  CHECK(call(p.port(), "POST", path + "/void", "", "void").status == 409);
  CHECK(text(call(p.port(), "POST", path + "/refunds", R"({"amount":300})", "r1").json(), "status") ==
        "partially_refunded");
  const auto too_much = call(p.port(), "POST", path + "/refunds", R"({"amount":701})", "r2");
  CHECK(too_much.status == 400);
  CHECK(text(too_much.json(), "field") == "amount");
  const auto rest = call(p.port(), "POST", path + "/refunds", R"({"amount":700})", "r3");
  CHECK(text(rest.json(), "status") == "refunded");
  CHECK(rest.json().at("amount_refunded").as_int64() == 1000);
  CHECK(call(p.port(), "POST", path + "/refunds", R"({"amount":1})", "r4").status == 409);
  const auto voided_id = text(charge(p, "auth-2", charge_body("tok_ok", 500, false, "pay-2")).json(), "id");
  CHECK(text(call(p.port(), "POST", "/v1/charges/" + voided_id + "/void", "", "v").json(), "status") == "voided");
  CHECK(call(p.port(), "POST", "/v1/charges/" + voided_id + "/capture", "", "c").status == 409);
  CHECK(call(p.port(), "POST", "/v1/charges/ch_nope/capture", "", "n").status == 404);
  const auto entries = ledger(p);
  REQUIRE(entries.size() == 2);
  CHECK(text(entries[0], "status") == "refunded");
  CHECK(text(entries[1], "status") == "voided");
}

TEST_CASE("a pending charge settles later with a signed webhook, retried until accepted") {
  webhook_listener listener(1);  // refuses the first delivery
  const provider_process p(settings{{"CQRS_PAYMENT_WEBHOOK_URL", listener.url()},
                            {"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "100"}});
  const auto pending = charge(p, "pend", charge_body("tok_pending", 4200, true, "pay-p"));
  REQUIRE(text(pending.json(), "status") == "pending");
  REQUIRE_MESSAGE(cqrs::tests::eventually([&] { return listener.received().size() >= 2; }, 10s), p.log());
  const auto deliveries = listener.received();
  CHECK(deliveries[0].signature != deliveries[1].signature);  // each attempt signed anew
  cqrs::core::security::webhook_replay_cache cache;
  const auto now = cqrs::core::security::unix_now();
  const auto& delivered = deliveries[1];
  CHECK(verify_webhook(p.secret(), delivered.signature, delivered.body, now, 300s, &cache) ==
        cqrs::core::security::webhook_verdict::valid);
  const auto event = json::parse(delivered.body);
  CHECK(text(event, "type") == "charge.settled");
  CHECK(text(event.at("data"), "id") == text(pending.json(), "id"));
  CHECK(text(event.at("data"), "status") == "captured");
  CHECK(text(event.at("data").at("metadata"), "payment_id") == "pay-p");
  CHECK(text(ledger(p)[0], "status") == "captured");
  // What a receiver refuses: the same delivery again, a stale one, another secret, a changed body.
  using cqrs::core::security::webhook_verdict;
  CHECK(verify_webhook(p.secret(), delivered.signature, delivered.body, now, 300s, &cache) ==
        webhook_verdict::replayed);
  CHECK(verify_webhook(p.secret(), delivered.signature, delivered.body, now + 301, 300s) == webhook_verdict::stale);
  CHECK(verify_webhook("whsec_other", delivered.signature, delivered.body, now) == webhook_verdict::bad_signature);
  CHECK(verify_webhook(p.secret(), delivered.signature, delivered.body + " ", now) == webhook_verdict::bad_signature);
}

TEST_CASE("webhooks go over HTTPS to a receiver whose certificate chains to the configured CA") {
  const test_certificates certificates;
  webhook_listener listener(0, &certificates);
  const provider_process trusting(settings{{"CQRS_PAYMENT_WEBHOOK_URL", listener.url()},
                                           {"CQRS_PAYMENT_WEBHOOK_CA_FILE", certificates.ca_file()},
                                           {"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "0"}});
  REQUIRE(charge(trusting, "tls", charge_body("tok_pending")).status == 201);
  REQUIRE_MESSAGE(cqrs::tests::eventually([&] { return listener.received().size() == 1; }, 10s), trusting.log());
  const auto delivered = listener.received()[0];
  CHECK(verify_webhook(trusting.secret(), delivered.signature, delivered.body, cqrs::core::security::unix_now()) ==
        cqrs::core::security::webhook_verdict::valid);
  // Without the CA the receiver's certificate is not trusted: no delivery reaches it.
  const provider_process distrusting(settings{{"CQRS_PAYMENT_WEBHOOK_URL", listener.url()},
                                              {"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "0"}});
  REQUIRE(charge(distrusting, "tls", charge_body("tok_pending")).status == 201);
  CHECK(cqrs::tests::eventually([&] { return distrusting.log().find("webhook not accepted") != std::string::npos; },
                                10s));
  CHECK(listener.received().size() == 1);
}

TEST_CASE("a timeout fault answers after the client's deadline, the charge made") {
  const provider_process p(settings{{"CQRS_PAYMENT_PROVIDER_TIMEOUT_DELAY_MS", "1500"}});
  set_faults(p, R"({"timeout_rate": 1})");
  const auto late = charge(p, "t1", charge_body("tok_ok"), 300ms);
  CHECK(late.result == outcome::timed_out);
  // A patient client gets the answer, late: the provider was slow, not stuck.
  const auto patient = charge(p, "t2", charge_body("tok_ok", 2500, true, "pay-2"), 5s);
  CHECK(patient.result == outcome::answered);
  CHECK(patient.status == 201);
  CHECK(patient.elapsed >= 1500ms);
  set_faults(p, "{}");
  const auto retried = charge(p, "t1", charge_body("tok_ok"));
  CHECK(retried.replayed);
  CHECK(ledger(p).size() == 2);
}

TEST_CASE("a hang fault holds the connection without an answer and does nothing") {
  const provider_process p(settings{{"CQRS_PAYMENT_PROVIDER_TIMEOUT_DELAY_MS", "200"}});
  set_faults(p, R"({"hang_rate": 1})");
  // Longer than a timeout fault's delay: still no answer, and the connection was not closed.
  const auto stuck = charge(p, "h1", charge_body("tok_ok"), 1000ms);
  CHECK(stuck.result == outcome::timed_out);
  CHECK(stuck.elapsed >= 1000ms);
  set_faults(p, "{}");
  CHECK(ledger(p).empty());
  CHECK(charge(p, "h1", charge_body("tok_ok")).status == 201);
  CHECK(ledger(p).size() == 1);
}

TEST_CASE("a lost answer: the charge is made, the connection closed without an answer, the charge found by key") {
  const provider_process p;
  set_faults(p, R"({"lose_answer_rate": 1})");
  const auto lost = charge(p, "pay-9:charge", charge_body("tok_ok", 900, true, "pay-9"), 2s);
  CHECK(lost.result == outcome::closed_without_answer);
  set_faults(p, "{}");
  const auto entries = ledger(p);
  REQUIRE(entries.size() == 1);
  CHECK(text(entries[0], "status") == "captured");
  CHECK(text(entries[0], "payment_id") == "pay-9");
  const auto found = call(p.port(), "GET", "/v1/charges?idempotency_key=pay-9:charge");
  REQUIRE(found.status == 200);
  REQUIRE(found.json().at("data").as_array().size() == 1);
  CHECK(text(found.json().at("data").as_array()[0], "status") == "captured");
  CHECK(call(p.port(), "GET", "/v1/charges?payment_id=pay-9").json().at("data").as_array().size() == 1);
  CHECK(call(p.port(), "GET", "/v1/charges?idempotency_key=nothing").json().at("data").as_array().empty());
  // The retry gets the stored answer, and there is still one charge.
  const auto retried = charge(p, "pay-9:charge", charge_body("tok_ok", 900, true, "pay-9"));
  CHECK(retried.replayed);
  CHECK(ledger(p).size() == 1);
}

TEST_CASE("an error fault answers 500 and does nothing; latency delays the answer; {} clears every fault") {
  const provider_process p;
  set_faults(p, R"({"error_rate": 1, "latency_ms": 300})");
  const auto failed = charge(p, "e1", charge_body("tok_ok"));
  CHECK(failed.status == 500);
  CHECK(text(failed.json(), "code") == "provider_error");
  CHECK(failed.elapsed >= 300ms);
  CHECK(ledger(p).empty());  // the admin API is never faulted
  set_faults(p, "{}");
  const auto faults = call(p.port(), "GET", "/_admin/faults").json();
  CHECK(faults.at("error_rate").as_double() == 0);
  CHECK(faults.at("latency_ms").as_int64() == 0);
  const auto fine = charge(p, "e1", charge_body("tok_ok"));
  CHECK(fine.status == 201);
  CHECK_FALSE(fine.replayed);  // a 500 is not stored: the retry ran
  CHECK(ledger(p).size() == 1);
}

TEST_CASE("faults drawn from the same seed repeat call for call") {
  const provider_process p;
  const auto statuses = [&](int round) {
    set_faults(p, R"({"error_rate": 0.5, "seed": 42})");
    std::vector<unsigned> out;
    for (int i = 0; i < 20; ++i) out.push_back(charge(p, fmt::format("s{}-{}", round, i), charge_body("tok_ok")).status);
    return out;
  };
  const auto first = statuses(1);
  CHECK(first == statuses(2));
  CHECK(std::count(first.begin(), first.end(), 500u) > 0);
  CHECK(std::count(first.begin(), first.end(), 201u) > 0);
}

TEST_CASE("bad input is a 400 problem naming the field, and nothing is charged") {
  const provider_process p;
  const auto field_of = [&](const std::string& body, std::optional<std::string> key = "bad") {
    const auto r = call(p.port(), "POST", "/v1/charges", body, std::move(key));
    CHECK(r.status == 400);
    return r.status == 400 ? text(r.json(), "field") : std::string();
  };
  CHECK(field_of(R"({"currency":"eur","card_token":"tok_ok","metadata":{"payment_id":"p"}})") == "amount");
  CHECK(field_of(R"({"amount":0,"currency":"eur","card_token":"tok_ok","metadata":{"payment_id":"p"}})") == "amount");
  CHECK(field_of(R"({"amount":10,"currency":"EURO","card_token":"tok_ok","metadata":{"payment_id":"p"}})") ==
        "currency");
  CHECK(field_of(R"({"amount":10,"currency":"eur","card_token":"tok_x","metadata":{"payment_id":"p"}})") ==
        "card_token");
  CHECK(field_of(R"({"amount":10,"currency":"eur","card_token":"tok_ok","capture":"yes","metadata":{"payment_id":"p"}})") ==
        "capture");
  CHECK(field_of(R"({"amount":10,"currency":"eur","card_token":"tok_ok"})") == "metadata.payment_id");
  CHECK(field_of("{not json") == "body");
  CHECK(field_of(charge_body("tok_ok"), std::nullopt) == "Idempotency-Key");
  // A 400 is not stored: the corrected request under the same key runs.
  CHECK(charge(p, "bad", charge_body("tok_ok")).status == 201);
  const auto faults = call(p.port(), "PUT", "/_admin/faults", R"({"hang_rate": 2})");
  CHECK(faults.status == 400);
  CHECK(text(faults.json(), "field") == "hang_rate");
  CHECK(call(p.port(), "POST", "/v1/charges", std::string(70'000, 'x'), "big").status == 413);
  CHECK(call(p.port(), "GET", "/v1/nothing").status == 404);
  CHECK(ledger(p).size() == 1);
}
