#pragma once

// Commands of the User aggregate. The user a command targets travels in the command envelope
// (stream `user-<id>`), not as a field. Personal fields are sealed by the caller before the
// command is built (user_values.hpp): commands, like events, never hold them in clear.

#include <string>
#include <string_view>
#include <variant>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "schemas/contracts/user/user_values.hpp"

namespace cqrs::schemas {

struct register_user {
  static constexpr std::string_view type_name = "user.register";
  static constexpr int schema_version = 1;

  sealed_text email;
  blind_index email_index;
  password_hash password;
  sealed_text name;
  sealed_text phone;           // empty: none given
  sealed_text postal_address;  // empty: none given

  friend bool operator==(const register_user&, const register_user&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(email), CEREAL_NVP(email_index), cereal::make_nvp("password_hash", password), CEREAL_NVP(name),
       CEREAL_NVP(phone), CEREAL_NVP(postal_address));
  }
};

// Replaces the whole profile: a field left empty is removed (name excepted: it is required).
struct update_user_profile {
  static constexpr std::string_view type_name = "user.update_profile";
  static constexpr int schema_version = 1;

  sealed_text name;
  sealed_text phone;
  sealed_text postal_address;

  friend bool operator==(const update_user_profile&, const update_user_profile&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(phone), CEREAL_NVP(postal_address));
  }
};

struct change_user_email {
  static constexpr std::string_view type_name = "user.change_email";
  static constexpr int schema_version = 1;

  sealed_text email;
  blind_index email_index;

  friend bool operator==(const change_user_email&, const change_user_email&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(email), CEREAL_NVP(email_index));
  }
};

struct change_user_password {
  static constexpr std::string_view type_name = "user.change_password";
  static constexpr int schema_version = 1;

  password_hash password;

  friend bool operator==(const change_user_password&, const change_user_password&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("password_hash", password));
  }
};

struct grant_user_role {
  static constexpr std::string_view type_name = "user.grant_role";
  static constexpr int schema_version = 1;

  user_role role;

  friend bool operator==(const grant_user_role&, const grant_user_role&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(role));
  }
};

struct revoke_user_role {
  static constexpr std::string_view type_name = "user.revoke_role";
  static constexpr int schema_version = 1;

  user_role role;

  friend bool operator==(const revoke_user_role&, const revoke_user_role&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(role));
  }
};

// `reason` is an operator's note (no personal data); it may be empty.
struct deactivate_user {
  static constexpr std::string_view type_name = "user.deactivate";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const deactivate_user&, const deactivate_user&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct reactivate_user {
  static constexpr std::string_view type_name = "user.reactivate";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const reactivate_user&, const reactivate_user&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

// Erasure: the caller destroys the user's data key; the aggregate records that it happened.
struct forget_user {
  static constexpr std::string_view type_name = "user.forget";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const forget_user&, const forget_user&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

using user_command = std::variant<register_user, update_user_profile, change_user_email, change_user_password,
                                  grant_user_role, revoke_user_role, deactivate_user, reactivate_user, forget_user>;

}  // namespace cqrs::schemas
