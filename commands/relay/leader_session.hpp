#pragma once

// Leadership of one relay (name, topic) and its checkpoint, on one dedicated PostgreSQL session.
//
// The lock is a session-level advisory lock (pg_try_advisory_lock): PostgreSQL releases it when
// the session ends, so when a leader dies a standby gets it at its next try. The checkpoint is
// written on the same session, which makes every successful write a proof that the writer still
// holds the lock; a failed write (or heartbeat) means leadership may be gone, and the relay must
// stop producing at once (leadership_lost).
//
// One thread at a time, like the connection it owns.

#include <optional>
#include <stdexcept>
#include <string>

#include "core/log_position.hpp"
#include "core/pg_connection.hpp"

namespace cqrs::commands::relay {

class leadership_lost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class leader_session {
 public:
  leader_session(std::string url, std::string relay_name, std::string topic);
  ~leader_session();
  leader_session(const leader_session&) = delete;
  leader_session& operator=(const leader_session&) = delete;

  // Connects if needed and tries the lock once: false while another session holds it.
  // Throws core::store_error when PostgreSQL cannot be reached.
  bool try_acquire();
  bool is_leader() const { return leader_; }

  // The saved checkpoint, or nothing when this relay has never saved one. Needs leadership.
  std::optional<core::log_position> load_checkpoint();
  // Saves the checkpoint; never moves it backwards. Throws leadership_lost on any failure.
  void save_checkpoint(core::log_position position);
  // Proves the session (and so the lock) is alive. Throws leadership_lost on any failure.
  void heartbeat();

  // Ends the session, which releases the lock.
  void release() noexcept;

 private:
  template <typename Work>
  void while_leading(const char* what, Work&& work);

  std::string relay_name_;
  std::string topic_;
  // Never reconnected behind our back: leadership ends with the session (see while_leading).
  core::pg_connection connection_;
  bool leader_ = false;
};

}  // namespace cqrs::commands::relay
