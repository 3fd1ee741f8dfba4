#include "gateway/user/user_errors.hpp"

#include <cstdlib>

namespace cqrs::gateway {

error_mapping map_error(commands::user::errc code) {
  using commands::user::errc;
  const auto name = commands::user::to_string(code);
  const auto make = &make_error_mapping;
  switch (code) {
    case errc::user_already_registered: return make(409, name, "The user already exists");
    case errc::user_not_found: return make(404, name, "No such user");
    case errc::user_forgotten: return make(404, name, "No such user");
    case errc::user_deactivated: return make(409, name, "The user is deactivated");
    case errc::invalid_email: return make(400, name, "Invalid email");
    case errc::invalid_email_index: return make(400, name, "Invalid email");
    case errc::email_already_taken: return make(409, name, "The email belongs to another user");
    case errc::invalid_password_hash: return make(400, name, "Invalid password");
    case errc::invalid_name: return make(400, name, "Invalid name");
    case errc::invalid_phone: return make(400, name, "Invalid phone");
    case errc::invalid_postal_address: return make(400, name, "Invalid address");
    case errc::unknown_role: return make(400, name, "Unknown role");
    case errc::last_admin: return make(409, name, "The last active admin cannot lose the role");
    case errc::invalid_reason: return make(400, name, "Invalid reason");
  }
  std::abort();
}

std::string_view field_of(commands::user::errc code) {
  using commands::user::errc;
  switch (code) {
    case errc::invalid_email:
    case errc::invalid_email_index: return "email";
    case errc::invalid_password_hash: return "password";
    case errc::invalid_name: return "name";
    case errc::invalid_phone: return "phone";
    case errc::invalid_postal_address: return "address";
    case errc::unknown_role: return "roles";
    case errc::invalid_reason: return "reason";
    case errc::user_already_registered:
    case errc::user_not_found:
    case errc::user_forgotten:
    case errc::user_deactivated:
    case errc::email_already_taken:
    case errc::last_admin: return "";
  }
  std::abort();
}

}  // namespace cqrs::gateway
