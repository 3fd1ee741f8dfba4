#include <algorithm>
#include <variant>

#include <pqxx/pqxx>

#include "core/pg_arrays.hpp"
#include "projections/history.hpp"
#include "projections/user/user_projections.hpp"

namespace cqrs::projections::user {

namespace {

// One statement per event: user commands are rare next to orders and stock moves, so the batch
// and bulk paths of the generic target (an event at a time) are fast enough here.
struct row_change {
  pqxx::transaction_base& tx;
  const std::string& model;
  const std::string id;
  const core::recorded_event& event;

  std::int64_t version() const { return event.version.value(); }

  void operator()(const schemas::user_registered& e) const {
    std::vector<std::string> roles;
    for (const auto& role : e.roles) roles.push_back(role.value());
    std::ranges::sort(roles);
    tx.exec_params(
        "INSERT INTO user_admin_list_rows (model, user_id, roles, status, created_at, email_index, stream_version) "
        "VALUES ($1, $2, $3::text[], 'active', $4::timestamptz, $5, $6) ON CONFLICT (model, user_id) DO NOTHING",
        model, id, core::pg_array(roles), format_timestamp(event.recorded_at), e.email_index.value(), version());
  }
  void operator()(const schemas::user_email_changed& e) const {
    update("email_index = $4", e.email_index.value());
  }
  void operator()(const schemas::user_role_granted& e) const {
    update("roles = ARRAY(SELECT DISTINCT r FROM unnest(array_append(roles, $4)) AS r ORDER BY r)", e.role.value());
  }
  void operator()(const schemas::user_role_revoked& e) const { update("roles = array_remove(roles, $4)", e.role.value()); }
  void operator()(const schemas::user_deactivated&) const { update("status = $4", "deactivated"); }
  void operator()(const schemas::user_reactivated& e) const {
    std::vector<std::string> roles;
    for (const auto& role : e.roles) roles.push_back(role.value());
    std::ranges::sort(roles);
    update("status = 'active', roles = $4::text[]", core::pg_array(roles));
  }
  void operator()(const schemas::user_forgotten&) const {
    tx.exec_params("DELETE FROM user_admin_list_rows WHERE model = $1 AND user_id = $2", model, id);
  }
  // Personal fields are not in this model: only the row's version moves.
  void operator()(const schemas::user_profile_updated&) const { update_version(); }
  void operator()(const schemas::user_password_changed&) const { update_version(); }

  void update(const std::string& set, const std::string& value) const {
    tx.exec_params("UPDATE user_admin_list_rows SET " + set + ", stream_version = $3 WHERE model = $1 AND user_id = $2",
                   model, id, version(), value);
  }
  void update_version() const {
    tx.exec_params("UPDATE user_admin_list_rows SET stream_version = $3 WHERE model = $1 AND user_id = $2", model, id,
                   version());
  }
};

constexpr const char* admin_list_sql =
    "SELECT r.user_id, array_to_string(r.roles, ','), r.status, "
    "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), r.email_index, r.stream_version "
    "FROM user_admin_list_rows r JOIN projection_live_models l ON l.projection = $1::text AND l.model = r.model "
    "WHERE ($2::text IS NULL OR r.status = $2::text) AND ($3::text IS NULL OR $3::text = ANY(r.roles)) "
    "AND ($4::text IS NULL OR r.email_index = $4::text) "
    "AND ($5::timestamptz IS NULL OR (r.created_at, r.user_id) > ($5::timestamptz, $6::text)) "
    "ORDER BY r.created_at, r.user_id LIMIT $7::integer";

// Roles are words without commas (the aggregate accepts three), so a joined list splits back.
std::vector<std::string> split_roles(const std::string& joined) {
  std::vector<std::string> roles;
  std::size_t from = 0;
  while (from < joined.size()) {
    const auto comma = std::min(joined.find(',', from), joined.size());
    roles.push_back(joined.substr(from, comma - from));
    from = comma + 1;
  }
  return roles;
}

}  // namespace

user_admin_list_projection::user_admin_list_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::postgres} {}

void user_admin_list_projection::apply(pqxx::transaction_base& tx, const std::string& model,
                                       const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_user(event);
  if (!decoded) return;
  std::visit(row_change{tx, model, detail::user_id_of(event.stream), event}, *decoded);
}

void user_admin_list_projection::drop_model(pqxx::transaction_base& tx, const std::string& model) const {
  tx.exec_params("DELETE FROM user_admin_list_rows WHERE model = $1", model);
}

std::vector<admin_list_row> query_admin_list(pqxx::transaction_base& tx, const admin_list_query& q) {
  std::optional<std::string> after_at;
  std::optional<std::string> after_id;
  if (q.after) after_at = q.after->created_at, after_id = q.after->user_id;
  const auto rows =
      tx.exec_params(admin_list_sql, q.projection, q.status, q.role, q.email_index, after_at, after_id, q.limit);
  std::vector<admin_list_row> out;
  for (const auto& row : rows) {
    admin_list_row r{row[0].as<std::string>(), split_roles(row[1].as<std::string>()), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::int64_t>()};
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cqrs::projections::user
