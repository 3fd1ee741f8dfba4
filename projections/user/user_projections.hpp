#pragma once

// The User read models. Both hold what the events hold: personal fields sealed, never in clear.
// A forgotten user is dropped from both.
// - user_detail (Redis): hash `user:<id>` with id, email, email_index, name, phone,
//   postal_address (ciphertext as stored), role_customer, role_support, role_admin ("1"/"0"),
//   status (active, deactivated), created_at (ISO 8601 UTC) and version.
// - user_admin_list (PostgreSQL): user_admin_list_rows (migration 0060), one row per user with
//   id, roles, status, created_at and the e-mail's blind index, read with keyset pagination by
//   (created_at, id) through query_admin_list.
// Category and name are parameters: the registrar passes them under the process's projection
// scope (registration.hpp), and tests build their own.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"
#include "projections/redis_client.hpp"
#include "schemas/contracts/user/user_events.hpp"

namespace cqrs::projections::user {

class user_detail_projection final : public redis_projection {
 public:
  explicit user_detail_projection(std::string category = "user", std::string name = "user_detail");
  const projection_info& info() const override { return info_; }
  std::vector<redis_op> changes(const core::recorded_event& event) const override;

 private:
  projection_info info_;
};

class user_admin_list_projection final : public pg_projection {
 public:
  explicit user_admin_list_projection(std::string category = "user", std::string name = "user_admin_list");
  const projection_info& info() const override { return info_; }
  void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const override;
  void drop_model(pqxx::transaction_base& tx, const std::string& model) const override;

 private:
  projection_info info_;
};

// One user's detail read as a script call: the live-model pointer and the model read in one
// atomic step (a rebuild's switch never shows a half-built or dropped model). Shared by the
// blocking reader below and an async Redis connection.
struct user_detail_read {
  std::string_view script;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};
user_detail_read user_detail_read_for(const std::string& user_id, const std::string& projection = "user_detail");

using user_fields = std::map<std::string, std::string>;
// The script's reply: the hash's fields, or nothing when the live model has no such user.
std::optional<user_fields> decode_user_detail(const redis_reply& reply);
std::optional<user_fields> read_user_detail(redis_client& client, const std::string& user_id,
                                            const std::string& projection = "user_detail");
// The roles a detail hash holds, in the order customer, support, admin.
std::vector<std::string> roles_of(const user_fields& fields);

struct admin_list_row {
  std::string user_id;
  std::vector<std::string> roles;  // sorted
  std::string status;              // "active" or "deactivated"
  std::string created_at;          // ISO 8601 UTC, microseconds
  std::string email_index;
  std::int64_t version = 0;

  friend bool operator==(const admin_list_row&, const admin_list_row&) = default;
};

// Where a page ends: the next page starts strictly after this (created_at, user_id).
struct admin_list_cursor {
  std::string created_at;  // ISO 8601 as admin_list_row has it
  std::string user_id;
};

struct admin_list_query {
  std::optional<std::string> status;       // only users with this status
  std::optional<std::string> role;         // only users holding this role
  std::optional<std::string> email_index;  // only the user with this blind index
  std::optional<admin_list_cursor> after;  // keyset pagination
  int limit = 50;
  std::string projection = "user_admin_list";  // whose live model to read
};

// Ordered by (created_at, user_id).
std::vector<admin_list_row> query_admin_list(pqxx::transaction_base& tx, const admin_list_query& query);

namespace detail {
// The id part of `user-<id>`.
std::string user_id_of(const core::stream_id& stream);
// The event decoded when it is a User event, nothing for other types; an undecodable payload is a
// handler_error (poison).
std::optional<schemas::user_event> decode_if_user(const core::recorded_event& event);
}  // namespace detail

}  // namespace cqrs::projections::user
