#pragma once

// Events of the User aggregate (stream category "user"), at their current schema versions. They
// carry personal data only sealed (user_values.hpp): once the user's data key is destroyed the
// stored history holds nothing readable about them. The e-mail's blind index is kept in clear: it
// is what makes the address unique across users (the "user.email" claim) and findable.
// Changing a type's fields means a new schema version and an upcaster (docs/event-schemas.md).

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "schemas/contracts/user/user_values.hpp"

namespace cqrs::schemas {

struct user_registered {
  static constexpr std::string_view type_name = "user.registered";
  static constexpr int schema_version = 1;

  sealed_text email;
  blind_index email_index;
  password_hash password;
  sealed_text name;
  sealed_text phone;           // empty: none
  sealed_text postal_address;  // empty: none
  std::vector<user_role> roles;  // the roles a new user starts with: customer

  friend bool operator==(const user_registered&, const user_registered&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(email), CEREAL_NVP(email_index), cereal::make_nvp("password_hash", password), CEREAL_NVP(name),
       CEREAL_NVP(phone), CEREAL_NVP(postal_address), CEREAL_NVP(roles));
  }
};

struct user_profile_updated {
  static constexpr std::string_view type_name = "user.profile_updated";
  static constexpr int schema_version = 1;

  sealed_text name;
  sealed_text phone;
  sealed_text postal_address;

  friend bool operator==(const user_profile_updated&, const user_profile_updated&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(phone), CEREAL_NVP(postal_address));
  }
};

struct user_email_changed {
  static constexpr std::string_view type_name = "user.email_changed";
  static constexpr int schema_version = 1;

  sealed_text email;
  blind_index email_index;

  friend bool operator==(const user_email_changed&, const user_email_changed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(email), CEREAL_NVP(email_index));
  }
};

struct user_password_changed {
  static constexpr std::string_view type_name = "user.password_changed";
  static constexpr int schema_version = 1;

  password_hash password;

  friend bool operator==(const user_password_changed&, const user_password_changed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("password_hash", password));
  }
};

struct user_role_granted {
  static constexpr std::string_view type_name = "user.role_granted";
  static constexpr int schema_version = 1;

  user_role role;

  friend bool operator==(const user_role_granted&, const user_role_granted&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(role));
  }
};

struct user_role_revoked {
  static constexpr std::string_view type_name = "user.role_revoked";
  static constexpr int schema_version = 1;

  user_role role;

  friend bool operator==(const user_role_revoked&, const user_role_revoked&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(role));
  }
};

struct user_deactivated {
  static constexpr std::string_view type_name = "user.deactivated";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const user_deactivated&, const user_deactivated&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

// The roles in force again, repeated so that a reader (the admins claim, a projection) needs no
// memory of the user to apply it.
struct user_reactivated {
  static constexpr std::string_view type_name = "user.reactivated";
  static constexpr int schema_version = 1;

  std::string reason;
  std::vector<user_role> roles;

  friend bool operator==(const user_reactivated&, const user_reactivated&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason), CEREAL_NVP(roles));
  }
};

// The user's data key is destroyed: earlier events' sealed fields are unreadable from now on.
// The stream accepts no further command.
struct user_forgotten {
  static constexpr std::string_view type_name = "user.forgotten";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const user_forgotten&, const user_forgotten&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

using user_event = std::variant<user_registered, user_profile_updated, user_email_changed, user_password_changed,
                                user_role_granted, user_role_revoked, user_deactivated, user_reactivated,
                                user_forgotten>;

}  // namespace cqrs::schemas
