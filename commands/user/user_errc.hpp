#pragma once

// Why the User aggregate refuses a command. The numeric values and the names are stable:
// callers (HTTP answers, other services) match on them, so never renumber or rename; only add.

#include <string>
#include <string_view>

namespace cqrs::commands::user {

enum class errc {
  user_already_registered = 1,
  user_not_found = 2,
  user_forgotten = 3,      // the user was forgotten: no command applies any more
  user_deactivated = 4,    // the command needs an active user (reactivate first)
  invalid_email = 5,       // the sealed address: missing, too long, not visible ASCII
  invalid_email_index = 6,  // the blind index: not lowercase hex of 32 to 128 digits
  email_already_taken = 7,  // another user holds the address (same blind index)
  invalid_password_hash = 8,
  invalid_name = 9,
  invalid_phone = 10,
  invalid_postal_address = 11,
  unknown_role = 12,
  last_admin = 13,  // the command would leave no active admin
  invalid_reason = 14,
};

// "user.email_already_taken": the code as it appears outside the process.
std::string_view to_string(errc code);

// The command field a code is about ("" when none): for error answers naming the field.
std::string_view field_of(errc code);

struct rejection {
  errc code;
  std::string detail;  // for humans; never matched on; never holds personal data

  friend bool operator==(const rejection&, const rejection&) = default;
};

}  // namespace cqrs::commands::user
