#include "core/security/errc.hpp"

namespace cqrs::core::security {

// No default: a new code that is not named here fails to compile (-Werror=switch).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::email_empty: return "email_empty";
    case errc::email_invalid_utf8: return "email_invalid_utf8";
    case errc::email_control_character: return "email_control_character";
    case errc::email_missing_at: return "email_missing_at";
    case errc::email_multiple_at: return "email_multiple_at";
    case errc::email_empty_local_part: return "email_empty_local_part";
    case errc::email_local_part_too_long: return "email_local_part_too_long";
    case errc::email_empty_domain: return "email_empty_domain";
    case errc::email_domain_too_long: return "email_domain_too_long";
    case errc::email_invalid_domain: return "email_invalid_domain";
    case errc::email_too_long: return "email_too_long";
    case errc::password_too_short: return "password_too_short";
    case errc::password_too_long: return "password_too_long";
    case errc::password_invalid_utf8: return "password_invalid_utf8";
    case errc::password_equals_email: return "password_equals_email";
    case errc::sealed_malformed: return "sealed_malformed";
    case errc::sealed_wrong_key: return "sealed_wrong_key";
    case errc::sealed_not_authentic: return "sealed_not_authentic";
    case errc::subject_forgotten: return "subject_forgotten";
    case errc::refresh_token_malformed: return "refresh_token_malformed";
  }
  return "unknown";
}

}  // namespace cqrs::core::security
