#pragma once

// What a subject (a user) may still do, recorded for every gateway's token checks: the table
// `subject_rights` (subject, active, roles, changed_at) and the channel `cqrs_subject_rights`,
// whose notifications name the subject whose row changed. Written in the transaction that
// appends the events changing those rights (commands/user), so that the change and its
// publication commit together or not at all; read by gateway/auth_epochs.
//
// The table is created on first use (CREATE TABLE IF NOT EXISTS in the writing transaction).

#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace cqrs::core {

inline constexpr std::string_view subject_rights_channel = "cqrs_subject_rights";

// Creates the table when it does not exist.
void ensure_subject_rights_table(pqxx::transaction_base& tx);

// Records the subject's rights and notifies the channel, in `tx` (committed by the caller: the
// notification is delivered at its commit, never before, never without it).
void record_subject_rights(pqxx::transaction_base& tx, const std::string& subject, bool active,
                           const std::vector<std::string>& roles);

}  // namespace cqrs::core
