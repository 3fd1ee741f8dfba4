// The aggregate-independent pieces of the command pipeline that need no database: metadata
// defaults, idempotency fingerprints, stored outcomes, snapshot timing, refusal classification.

#include <doctest/doctest.h>

#include <variant>

#include "commands/pipeline_support.hpp"
#include "commands/product/product_aggregate.hpp"
#include "schemas/contracts/product/product_codec.hpp"

namespace c = cqrs::commands;
namespace core = cqrs::core;
namespace s = cqrs::schemas;

namespace {

core::stream_id stream(const char* text) { return core::stream_id::parse(text).value(); }

s::encoded_payload reserve(std::int64_t units) {
  return s::encode(s::product_command{s::reserve_stock{s::reservation_id("r1"), s::quantity(units)}});
}

}  // namespace

TEST_CASE("a command without ids gets a generated command id, used as correlation and causation id") {
  const auto metadata = std::get<core::event_metadata>(c::detail::metadata_for(c::command_context{{}, {}, {}, "alice", {}, {}}));
  REQUIRE(metadata.command_id.has_value());
  CHECK(core::event_id::parse(*metadata.command_id).ok());
  CHECK(metadata.correlation_id == metadata.command_id);
  CHECK(metadata.causation_id == metadata.command_id);
  CHECK(metadata.actor == "alice");
}

TEST_CASE("ids given by the caller are kept") {
  const auto metadata =
      std::get<core::event_metadata>(c::detail::metadata_for(c::command_context{"cmd", "corr", "cause", "bob", {}, {}}));
  CHECK(metadata.command_id == "cmd");
  CHECK(metadata.correlation_id == "corr");
  CHECK(metadata.causation_id == "cause");
}

TEST_CASE("a command without an actor is an invalid request") {
  const auto refused = c::detail::metadata_for(c::command_context{});
  REQUIRE(std::holds_alternative<c::invalid_request>(refused));
  CHECK(std::get<c::invalid_request>(refused).why.code == core::errc::invalid_metadata);
}

TEST_CASE("the fingerprint is stable for one command and differs for another command or target") {
  const auto a = c::detail::fingerprint(stream("product-1"), reserve(1));
  CHECK(a == c::detail::fingerprint(stream("product-1"), reserve(1)));
  CHECK(a != c::detail::fingerprint(stream("product-1"), reserve(2)));
  CHECK(a != c::detail::fingerprint(stream("product-2"), reserve(1)));
  CHECK(a.rfind("sha256:", 0) == 0);
  CHECK(a.size() == 7 + 64);  // within the store's 200-byte limit for fingerprints
}

TEST_CASE("a stored outcome reads back as the accepted answer, marked as replayed") {
  const std::vector<core::event_id> ids{core::event_id::generate(), core::event_id::generate()};
  core::command_outcome stored{"key", "fp", c::detail::encode_outcome(ids), stream("product-1"), core::stream_version{7},
                               core::log_position{10, 20}};
  const auto answer = c::detail::decode_outcome(stored);
  CHECK(answer.version == core::stream_version{7});
  CHECK(answer.position == core::log_position{10, 20});
  CHECK(answer.event_ids == ids);
  CHECK(answer.replayed);
}

TEST_CASE("a stored refusal reads back as the product's rejection; an acceptance is no refusal") {
  namespace p = cqrs::commands::product;
  const p::rejection why{p::errc::insufficient_stock, "3 wanted, 1 available"};
  const core::command_outcome refused{"key", "fp", c::detail::encode_refusal(p::product_aggregate::encode_rejection(why)),
                                      stream("product-1"), core::stream_version{4}, std::nullopt};
  const auto text = c::detail::stored_refusal(refused);
  REQUIRE(text.has_value());
  CHECK(p::product_aggregate::decode_rejection(*text) == why);

  const core::command_outcome accepted{"key", "fp", c::detail::encode_outcome({}), stream("product-1"),
                                       core::stream_version{4}, std::nullopt};
  CHECK_FALSE(c::detail::stored_refusal(accepted).has_value());
  const auto unchanged = c::detail::decode_outcome(accepted);
  CHECK(unchanged.version == core::stream_version{4});
  CHECK_FALSE(unchanged.position.has_value());
  CHECK(unchanged.event_ids.empty());
}

TEST_CASE("a rejection that this build cannot read decodes to nothing") {
  namespace p = cqrs::commands::product;
  for (const char* text : {R"({"code":999,"detail":"x"})", R"({"code":"12","detail":"x"})", R"({"code":12})", "[]", "not json"}) {
    CAPTURE(text);
    CHECK_FALSE(p::product_aggregate::decode_rejection(text).has_value());
  }
  CHECK(p::product_aggregate::decode_rejection(R"({"code":12,"detail":"x"})") ==
        std::optional<p::rejection>(p::rejection{p::errc::insufficient_stock, "x"}));
}

TEST_CASE("a snapshot is due when an append crosses a multiple of the interval") {
  using v = core::stream_version;
  CHECK(c::detail::snapshot_due(v{99}, v{100}, 100));
  CHECK(c::detail::snapshot_due(v{98}, v{102}, 100));
  CHECK_FALSE(c::detail::snapshot_due(v{100}, v{101}, 100));
  CHECK_FALSE(c::detail::snapshot_due(v{0}, v{99}, 100));
  CHECK_FALSE(c::detail::snapshot_due(v{99}, v{100}, 0));  // 0: never
}

TEST_CASE("the store's refusals are retried, replayed or reported as invalid requests") {
  using r = c::detail::append_refusal;
  CHECK(c::detail::classify(core::errc::version_conflict) == r::version_conflict);
  CHECK(c::detail::classify(core::errc::duplicate_idempotency_key) == r::duplicate_idempotency_key);
  CHECK(c::detail::classify(core::errc::invalid_metadata) == r::invalid_request);
  CHECK(c::detail::classify(core::errc::payload_too_large) == r::invalid_request);
}

TEST_CASE("backoff waits stay within the window") {
  c::pipeline_options options;
  options.first_backoff = std::chrono::microseconds{10};
  options.max_backoff = std::chrono::microseconds{40};
  c::detail::backoff pause(options);
  const auto start = std::chrono::steady_clock::now();
  for (int attempt = 1; attempt <= 20; ++attempt) pause.wait(attempt);
  // 20 waits of at most 40 us each, plus generous scheduling slack.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds{500});
}
