#pragma once

// What every command route shares, whatever its aggregate: the headers it reads
// (Idempotency-Key, If-Match, X-Correlation-Id), the ids derived from them, the command's context,
// and the answers that do not depend on the aggregate (accepted, version conflict, key reused,
// invalid request, an outage). The template over the aggregate is in command_routes.hpp.
//
// Headers: Idempotency-Key (1-255 visible ASCII), If-Match ("3", "\"3\"" or W/"3": the expected
// stream version), X-Correlation-Id (optional, 1-200 visible ASCII). An idempotency key is
// scoped to the caller: the pipeline stores SHA-256(subject, key), so two callers never share a
// key and a 255-byte key fits the store's 200-byte limit. The id of a created aggregate is
// derived from (subject, key) when a key is given, so a retried create targets the same stream
// and gets the same answer; without a key it is random.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_outcome.hpp"
#include "commands/pipeline_support.hpp"
#include "core/errors.hpp"
#include "core/events.hpp"
#include "gateway/http_types.hpp"
#include "gateway/problem.hpp"

namespace cqrs::gateway {

struct request_context;

// What every command route reads besides its body.
struct command_headers {
  std::optional<std::string> idempotency_key;  // as sent
  std::optional<core::stream_version> if_match;
  std::string correlation_id;
};

// The headers, each bad one recorded in `errors` under its header name.
command_headers read_command_headers(const http_request& request, std::vector<field_error>& errors);

// The command's context: the request id as command id (it ties the events to the access log
// line), the caller as actor, the scoped idempotency key, If-Match. The caller must be present.
commands::command_context command_context_for(const request_context& ctx, const command_headers& headers);

// The target id of a create: derived from (subject, key) under `purpose` with a key, else random.
std::string create_target_id(const request_context& ctx, const command_headers& headers, std::string_view purpose);

// "<category>-<id>" when that is a valid stream id.
std::optional<core::stream_id> stream_of(std::string_view category, std::string_view id);
// The message for a path id that stream_of refused.
inline constexpr std::string_view invalid_id_message =
    "must be 1 to 192 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-'";

// A path parameter, or empty when the route has none of that name.
std::string path_param(const request_context& ctx, const std::string& name);

// A version as an ETag: "3".
std::string etag(core::stream_version version);

// Every command answer that wrote something carries the position written as a consistency
// token: the Consistency-Token header and a cookie of the same name (Secure; HttpOnly;
// SameSite=Strict; Path=/). Reads that honour it (consistency.hpp, read_causal_position) wait
// until their read model has applied it, so a session that keeps cookies is causal by default.
inline constexpr std::string_view consistency_token_name = "Consistency-Token";
void set_consistency_token(http_response& response, const std::string& token);
// The token of `from` (a command's answer), if any, onto `to` (an answer built afterwards).
void copy_consistency_token(const http_response& from, http_response& to);

// The answers that do not depend on the aggregate. `noun` names the aggregate ("product").
http_response accepted_response(const commands::accepted& done, std::string_view id, bool creates,
                                std::string_view collection);
http_response conflict_response(const commands::version_conflict& conflict, const commands::command_context& context,
                                std::string_view noun);
http_response key_reused_response();
http_response invalid_request_response(const commands::invalid_request& invalid);

namespace detail {

// If-Match as an expected version: "3", "\"3\"" or W/"3"; nothing when the value is none of these.
std::optional<core::stream_version> parse_if_match(std::string_view value);
// 1 to 255 visible ASCII characters (0x21-0x7e).
bool is_valid_idempotency_key(std::string_view key);
// The key the pipeline stores: SHA-256 over (subject, key) as hex, so keys are per caller.
std::string scoped_idempotency_key(std::string_view subject, std::string_view key);
// An id derived from (subject, key) under `purpose`: UUID-shaped (version 8) hex of a SHA-256.
std::string derived_id(std::string_view purpose, std::string_view subject, std::string_view key);

// The answer to a store_error of this kind: 503 with Retry-After for an outage (saying, for a
// commit in doubt, how to learn the outcome); nothing for a bug (statement, unexpected).
std::optional<http_response> unavailable(core::failure_kind kind, bool has_key, std::string_view noun = "resource");

}  // namespace detail

}  // namespace cqrs::gateway
