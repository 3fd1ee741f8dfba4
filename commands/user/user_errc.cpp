#include "commands/user/user_errc.hpp"

#include <stdexcept>

namespace cqrs::commands::user {

// No `default:` on purpose: a new code without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::user_already_registered: return "user.already_registered";
    case errc::user_not_found: return "user.not_found";
    case errc::user_forgotten: return "user.forgotten";
    case errc::user_deactivated: return "user.deactivated";
    case errc::invalid_email: return "user.invalid_email";
    case errc::invalid_email_index: return "user.invalid_email_index";
    case errc::email_already_taken: return "user.email_already_taken";
    case errc::invalid_password_hash: return "user.invalid_password_hash";
    case errc::invalid_name: return "user.invalid_name";
    case errc::invalid_phone: return "user.invalid_phone";
    case errc::invalid_postal_address: return "user.invalid_postal_address";
    case errc::unknown_role: return "user.unknown_role";
    case errc::last_admin: return "user.last_admin";
    case errc::invalid_reason: return "user.invalid_reason";
  }
  throw std::invalid_argument("not a user errc value");
}

std::string_view field_of(errc code) {
  switch (code) {
    case errc::user_already_registered:
    case errc::user_not_found:
    case errc::user_forgotten:
    case errc::user_deactivated:
    case errc::last_admin:
      return "";
    case errc::invalid_email:
    case errc::email_already_taken:
      return "email";
    case errc::invalid_email_index: return "email_index";
    case errc::invalid_password_hash: return "password_hash";
    case errc::invalid_name: return "name";
    case errc::invalid_phone: return "phone";
    case errc::invalid_postal_address: return "postal_address";
    case errc::unknown_role: return "role";
    case errc::invalid_reason: return "reason";
  }
  throw std::invalid_argument("not a user errc value");
}

}  // namespace cqrs::commands::user
