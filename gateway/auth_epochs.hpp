#pragma once

// Prompt revocation of users' access tokens across every gateway. Access tokens live 15 minutes;
// a user deactivated, forgotten or stripped of a role must lose those rights at once, on every
// gateway. The command's own transaction, the one appending its events, records the user's rights
// in the table `subject_rights` and notifies the channel `cqrs_subject_rights`
// (core/subject_rights.hpp, written by commands/user's append effects); every
// gateway listens on that channel (one connection, on a thread of its own: never an I/O thread)
// and keeps the table in memory, so a token check is a map lookup. On (re)connecting the whole
// table is loaded again, so a notification missed while disconnected is never lost.
//
// Only users whose rights changed after they signed in are in the table; the table is created
// on first use.

#include <atomic>
#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <pqxx/pqxx>

#include "gateway/jwt.hpp"

namespace cqrs::gateway {

class auth_epochs final : public rights_source {
 public:
  // Starts listening on a thread of its own; a PostgreSQL outage is retried every `retry`.
  explicit auth_epochs(std::string pg_url, std::chrono::milliseconds retry = std::chrono::milliseconds(500));
  ~auth_epochs() override;  // stops and joins the thread
  auth_epochs(const auth_epochs&) = delete;
  auth_epochs& operator=(const auth_epochs&) = delete;

  std::optional<subject_rights> rights_of(std::string_view subject) const override;
  // Whether the table has been loaded since the last (re)connect.
  bool ready() const { return ready_.load(); }

 private:
  void run(std::stop_token stop);
  void listen_until_broken(std::stop_token stop);
  void reload(pqxx::connection& connection);
  void refresh_one(pqxx::connection& connection, const std::string& subject);

  std::string url_;
  std::chrono::milliseconds retry_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, subject_rights> rights_;
  std::atomic<bool> ready_{false};
  std::jthread thread_;
};

}  // namespace cqrs::gateway
