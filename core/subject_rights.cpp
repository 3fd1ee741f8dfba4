#include "core/subject_rights.hpp"

#include <pqxx/transaction_base>

namespace cqrs::core {

namespace {

// {admin,customer}: roles are plain words, so the array's text form needs no quoting.
std::string roles_array(const std::vector<std::string>& roles) {
  std::string text = "{";
  for (const auto& role : roles) {
    if (text.size() > 1) text += ',';
    text += role;
  }
  return text + "}";
}

}  // namespace

void ensure_subject_rights_table(pqxx::transaction_base& tx) {
  tx.exec(
      "CREATE TABLE IF NOT EXISTS subject_rights (subject text PRIMARY KEY, active boolean NOT NULL, "
      "roles text[] NOT NULL, changed_at timestamptz NOT NULL DEFAULT now())");
}

void record_subject_rights(pqxx::transaction_base& tx, const std::string& subject, bool active,
                           const std::vector<std::string>& roles) {
  ensure_subject_rights_table(tx);
  tx.exec_params(
      "INSERT INTO subject_rights (subject, active, roles) VALUES ($1, $2, $3::text[]) "
      "ON CONFLICT (subject) DO UPDATE SET active = EXCLUDED.active, roles = EXCLUDED.roles, changed_at = now()",
      subject, active, roles_array(roles));
  tx.exec_params("SELECT pg_notify($1, $2)", std::string(subject_rights_channel), subject);
}

}  // namespace cqrs::core
