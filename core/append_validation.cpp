#include "core/append_validation.hpp"

#include <fmt/format.h>

namespace cqrs::core {

namespace {

bool is_type_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '-';
}

// The length of the UTF-8 sequence starting with `lead`, or 0 if it cannot start one.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// PostgreSQL refuses text that is not UTF-8 or holds NUL, with an exception; we refuse it first,
// with a value. Control characters are refused too: metadata ends up in logs.
// (Overlong 3- and 4-byte forms are left for PostgreSQL to refuse; they do not occur in practice.)
bool is_clean_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_length(lead);
    if (length == 0 || i + length > text.size() || lead < 0x20 || lead == 0x7f) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

std::optional<error> check_text(const std::optional<std::string>& value, std::string_view name,
                                const store_limits& limits) {
  if (!value) return std::nullopt;
  if (value->size() > limits.max_text_length || !is_clean_text(*value)) {
    return make_error(errc::invalid_metadata,
                      fmt::format("{} must be UTF-8 text without control characters, at most {} bytes", name,
                                  limits.max_text_length));
  }
  return std::nullopt;
}

std::optional<error> check_metadata(const event_metadata& metadata, const store_limits& limits) {
  if (auto e = check_text(metadata.command_id, "command_id", limits)) return e;
  if (auto e = check_text(metadata.correlation_id, "correlation_id", limits)) return e;
  if (auto e = check_text(metadata.causation_id, "causation_id", limits)) return e;
  return check_text(metadata.actor, "actor", limits);
}

std::optional<error> check_event(const new_event& event, const store_limits& limits) {
  if (auto e = check_event_type(event.type, limits)) return e;
  if (event.schema_version < 1) return make_error(errc::invalid_schema_version, "schema version must be at least 1");
  if (event.payload.size() > limits.max_payload_bytes) {
    return make_error(errc::payload_too_large,
                      fmt::format("payload of {} bytes over the limit of {}", event.payload.size(),
                                  limits.max_payload_bytes));
  }
  return std::nullopt;
}

std::optional<error> check_events(const std::vector<new_event>& events, const store_limits& limits) {
  if (events.empty()) return make_error(errc::empty_event_list, "an append needs at least one event");
  if (events.size() > limits.max_events_per_append) {
    return make_error(errc::too_many_events, fmt::format("more than {} events in one append", limits.max_events_per_append));
  }
  std::size_t total = 0;
  for (const auto& event : events) {
    if (auto e = check_event(event, limits)) return e;
    total += event.payload.size();
  }
  if (total > limits.max_append_bytes) {
    return make_error(errc::append_too_large, fmt::format("payloads over {} bytes in one append", limits.max_append_bytes));
  }
  return std::nullopt;
}

std::optional<error> check_expected(const expected_version& expected) {
  if (expected.kind() == expected_version::form::exact && expected.version().value() < 0) {
    return make_error(errc::invalid_expected_version, "an exact expected version cannot be negative");
  }
  return std::nullopt;
}

std::optional<error> check_snapshot(const std::optional<snapshot_write>& snapshot, const store_limits& limits) {
  if (!snapshot) return std::nullopt;
  if (snapshot->schema_version < 1) return make_error(errc::invalid_schema_version, "snapshot schema version must be at least 1");
  if (snapshot->state.size() > limits.max_snapshot_bytes) {
    return make_error(errc::payload_too_large, fmt::format("snapshot over {} bytes", limits.max_snapshot_bytes));
  }
  return std::nullopt;
}

std::optional<error> check_optional_outcome(const std::optional<command_outcome_write>& outcome, const store_limits& limits) {
  if (!outcome) return std::nullopt;
  const bool key_ok = !outcome->idempotency_key.empty() && outcome->idempotency_key.size() <= limits.max_text_length &&
                      is_clean_text(outcome->idempotency_key);
  const bool fingerprint_ok =
      outcome->command_fingerprint.size() <= limits.max_text_length && is_clean_text(outcome->command_fingerprint);
  if (!key_ok || !fingerprint_ok) {
    return make_error(errc::invalid_idempotency_key,
                      fmt::format("idempotency key (non-empty) and fingerprint must be clean text of at most {} bytes",
                                  limits.max_text_length));
  }
  if (outcome->outcome.size() > limits.max_payload_bytes) {
    return make_error(errc::payload_too_large, fmt::format("command outcome over {} bytes", limits.max_payload_bytes));
  }
  return std::nullopt;
}

}  // namespace

std::optional<error> check_event_type(std::string_view type, const store_limits& limits) {
  const bool starts_well = !type.empty() && ((type[0] >= 'A' && type[0] <= 'Z') || (type[0] >= 'a' && type[0] <= 'z'));
  bool ok = starts_well && type.size() <= limits.max_text_length;
  for (char c : type) ok = ok && is_type_char(c);
  if (ok) return std::nullopt;
  return make_error(errc::invalid_event_type,
                    fmt::format("event type must be [A-Za-z][A-Za-z0-9_.:-]*, at most {} characters", limits.max_text_length));
}

std::optional<error> check_batch_size(std::size_t batch, const store_limits& limits) {
  if (batch >= 1 && batch <= limits.max_batch) return std::nullopt;
  return make_error(errc::invalid_batch_size, fmt::format("batch size must be 1 to {}", limits.max_batch));
}

std::optional<error> check_append(const append_request& request, const store_limits& limits) {
  if (auto e = check_expected(request.expected)) return e;
  if (auto e = check_events(request.events, limits)) return e;
  if (auto e = check_metadata(request.metadata, limits)) return e;
  if (auto e = check_snapshot(request.snapshot, limits)) return e;
  return check_optional_outcome(request.outcome, limits);
}

std::optional<error> check_outcome(const command_outcome_write& outcome, const store_limits& limits) {
  return check_optional_outcome(outcome, limits);
}

}  // namespace cqrs::core
