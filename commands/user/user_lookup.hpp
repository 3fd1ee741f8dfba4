#pragma once

// Which user holds an e-mail address, by its blind index, read from the claims the write side
// commits with the events (unique_claims, scope "user.email"). Strongly consistent, unlike the
// read models: a registration or a change of address is visible here from its commit on, and a
// forgotten user's address no longer is. For sign-in and "is this address free" checks.
// Also when a user was registered: the recorded time of the stream's first event.

#include <optional>
#include <string>

#include "core/event_store.hpp"
#include "core/ids.hpp"
#include "schemas/contracts/user/user_values.hpp"

namespace cqrs::commands::user {

// The user's stream (`user-<id>`), or nothing when no user holds the address. Throws
// core::store_error when PostgreSQL fails; uses the store's connection (same thread only).
std::optional<core::stream_id> user_with_email(core::event_store& store, const schemas::blind_index& index);

// When the user's stream began (its first event's recorded time, UTC, ISO 8601 with
// microseconds: "2026-01-02T03:04:05.000006Z"), or an empty text for a stream with no events.
// Throws core::store_error when PostgreSQL fails; uses the store's connection (same thread only).
std::string user_created_at(core::event_store& store, const core::stream_id& user);

}  // namespace cqrs::commands::user
