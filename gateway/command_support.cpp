#include "gateway/command_support.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "core/ids.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/router.hpp"

namespace cqrs::gateway {

namespace {

bool is_visible_ascii(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::array<unsigned char, 32> sha256_of(std::string_view purpose, std::string_view subject, std::string_view key) {
  // Length-prefixed, so that no (subject, key) pair can be shifted into another.
  const auto text = fmt::format("{}\n{}:{}\n{}", purpose, subject.size(), subject, key);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 || length != 32) {
    throw std::runtime_error("SHA-256 failed");
  }
  return digest;
}

}  // namespace

command_headers read_command_headers(const http_request& request, std::vector<field_error>& errors) {
  command_headers out;
  if (auto key = request.header("idempotency-key")) {
    if (detail::is_valid_idempotency_key(*key)) out.idempotency_key = std::string(*key);
    else errors.push_back({"Idempotency-Key", "must be 1 to 255 visible ASCII characters"});
  }
  if (auto match = request.header("if-match")) {
    out.if_match = detail::parse_if_match(*match);
    if (!out.if_match) errors.push_back({"If-Match", "must be a stream version as an ETag, e.g. \"3\""});
  }
  if (auto correlation = request.header("x-correlation-id")) {
    // The store keeps metadata of at most 200 bytes; refused here, the caller learns why.
    if (is_visible_ascii(*correlation, 200)) out.correlation_id = std::string(*correlation);
    else errors.push_back({"X-Correlation-Id", "must be 1 to 200 visible ASCII characters"});
  }
  return out;
}

commands::command_context command_context_for(const request_context& ctx, const command_headers& headers) {
  commands::command_context out;
  out.command_id = ctx.request_id;
  out.correlation_id = headers.correlation_id;
  out.actor = ctx.caller->subject;
  if (headers.idempotency_key) out.idempotency_key = detail::scoped_idempotency_key(out.actor, *headers.idempotency_key);
  out.if_match = headers.if_match;
  return out;
}

std::string create_target_id(const request_context& ctx, const command_headers& headers, std::string_view purpose) {
  if (!headers.idempotency_key) return core::event_id::generate().to_string();
  return detail::derived_id(purpose, ctx.caller->subject, *headers.idempotency_key);
}

std::optional<core::stream_id> stream_of(std::string_view category, std::string_view id) {
  // A '-' inside the id is allowed by stream_id: the category ends at the first one.
  auto parsed = core::stream_id::parse(fmt::format("{}-{}", category, id));
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

std::string path_param(const request_context& ctx, const std::string& name) {
  const auto found = ctx.params.find(name);
  return found == ctx.params.end() ? std::string{} : found->second;
}

std::string etag(core::stream_version version) { return fmt::format("\"{}\"", version.value()); }

http_response accepted_response(const commands::accepted& done, std::string_view id, bool creates,
                                std::string_view collection) {
  boost::json::object body{{"id", id}, {"version", done.version.value()}, {"position", nullptr}};
  if (done.position) body["position"] = done.position->token();
  auto response = json_response(creates ? 201 : 200, body);
  response.set_header("ETag", etag(done.version));
  if (done.position) {
    response.set_header("X-Position", done.position->token());
    set_consistency_token(response, done.position->token());
  }
  if (done.replayed) response.set_header("Idempotent-Replayed", "true");
  if (creates) response.set_header("Location", fmt::format("{}/{}", collection, id));
  return response;
}

void set_consistency_token(http_response& response, const std::string& token) {
  response.set_header(std::string(consistency_token_name), token);
  // The same value as a cookie, so that a client keeping cookies (a browser, curl -b/-c) carries
  // it to its next read without doing anything; never readable by scripts, never sent elsewhere.
  response.set_header("Set-Cookie", fmt::format("{}={}; Secure; HttpOnly; SameSite=Strict; Path=/",
                                                consistency_token_name, token));
}

void copy_consistency_token(const http_response& from, http_response& to) {
  for (const auto& [name, value] : from.headers) {
    if (name == "set-cookie" || name == "Set-Cookie") to.set_header(name, value);
    if (name == consistency_token_name) to.set_header(name, value);
  }
}

http_response conflict_response(const commands::version_conflict& conflict, const commands::command_context& context,
                                std::string_view noun) {
  const auto code = commands::errc::version_conflict;
  const auto actual = conflict.actual.value();
  std::string detail = conflict.caller_expectation && context.if_match
                           ? fmt::format("If-Match expected version {} but the {} is at version {}; re-read it",
                                         context.if_match->value(), noun, actual)
                           : fmt::format("concurrent writers kept changing the {} ({} attempts); it is at "
                                         "version {}; retry", noun, conflict.attempts, actual);
  problem p{map_error(code, conflict.caller_expectation), std::string(commands::to_string(code)), std::move(detail), {}, {}};
  p.extra_headers.emplace_back("ETag", etag(conflict.actual));
  return to_response(p);
}

http_response key_reused_response() {
  const auto code = commands::errc::idempotency_key_reused;
  const std::string detail = "this Idempotency-Key was first used for a different command; use a new key";
  return to_response(problem{map_error(code), std::string(commands::to_string(code)), detail,
                             {{"Idempotency-Key", detail}}, {}});
}

http_response invalid_request_response(const commands::invalid_request& invalid) {
  const auto code = commands::errc::invalid_request;
  return to_response(problem{map_error(code), std::string(commands::to_string(code)), invalid.why.detail, {}, {}});
}

namespace detail {

std::optional<core::stream_version> parse_if_match(std::string_view value) {
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  // from_chars would take a '-'; a version is digits only.
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t version = 0;
  const auto [end, failure] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (failure != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  return core::stream_version{version};
}

bool is_valid_idempotency_key(std::string_view key) { return is_visible_ascii(key, 255); }

std::string scoped_idempotency_key(std::string_view subject, std::string_view key) {
  const auto digest = sha256_of("cqrs.idempotency-key.v1", subject, key);
  std::string out;
  for (const auto byte : digest) out += fmt::format("{:02x}", byte);
  return out;
}

std::string derived_id(std::string_view purpose, std::string_view subject, std::string_view key) {
  const auto digest = sha256_of(purpose, subject, key);
  core::event_id::bytes_type bytes{};
  std::copy_n(digest.begin(), bytes.size(), bytes.begin());
  // RFC 9562 version 8 ("custom") and the RFC variant, so the id reads as the UUID it looks like.
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return core::event_id::from_bytes(bytes).to_string();
}

std::optional<http_response> unavailable(core::failure_kind kind, bool has_key, std::string_view noun) {
  // No `default:`: a new kind must be judged here. Only outages are the client's to retry; a
  // failing statement or a library misuse is our bug.
  switch (kind) {
    case core::failure_kind::connection:
    case core::failure_kind::transient:
      return retry_later(errc::dependency_unavailable, "the event store is unavailable; retry", 1);
    case core::failure_kind::in_doubt:
      return retry_later(errc::dependency_unavailable,
                         has_key ? std::string("the connection broke while committing, so the outcome is unknown; "
                                               "retry with the same Idempotency-Key to learn it")
                                 : fmt::format("the connection broke while committing, so the outcome is unknown; "
                                               "read the {} before retrying (an Idempotency-Key makes retries safe)",
                                               noun),
                         1);
    case core::failure_kind::statement:
    case core::failure_kind::unexpected:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace detail

}  // namespace cqrs::gateway
