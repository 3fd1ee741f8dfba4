// cqrs users: operators' user management.
//   cqrs users add --email E [--name N] [--role admin]...   a user, its password read from standard input
// The password is never a flag (flags show in `ps` and in shell history). The user is registered
// as the gateway registers one (fields sealed with the personal-data keys, the email's blind index,
// an argon2id hash), then granted the roles; a new user is always a customer.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands/user/user_aggregate.hpp"
#include "commands/user/user_pipeline.hpp"
#include "core/event_store.hpp"
#include "core/ids.hpp"
#include "core/security/email.hpp"
#include "core/security/password.hpp"
#include "core/security/security_config.hpp"
#include "gateway/jwt.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

namespace security = core::security;
namespace user = commands::user;

std::vector<std::string> split_roles(const std::string& text) {
  std::vector<std::string> roles;
  std::stringstream in(text);
  for (std::string role; std::getline(in, role, ',');) {
    if (role.empty()) continue;
    if (role != "customer" && role != "support" && role != "admin") {
      throw core::config_error("CQRS_ROLE", fmt::format("'{}' is not a role: customer, support or admin", role));
    }
    roles.push_back(role);
  }
  return roles;
}

std::string read_password() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

std::string sealed(security::pii_vault& vault, const std::string& id, std::string_view field, const std::string& text) {
  if (text.empty()) return {};
  const auto stream = "user-" + id;
  auto s = vault.seal(id, {stream, field}, text);
  if (!s) throw std::runtime_error(s.error().detail);
  return std::move(s).value();
}

// Runs one command; false (with the refusal printed) when it was not accepted.
bool run(user::user_pipeline& pipeline, const core::stream_id& stream, schemas::user_command command) {
  const commands::command_context context{core::event_id::generate().to_string(), {}, {}, "cli", std::nullopt,
                                          std::nullopt};
  const auto outcome = pipeline.handle(user::user_envelope{stream, std::move(command), context});
  if (std::holds_alternative<commands::accepted>(outcome)) return true;
  if (const auto* no = std::get_if<commands::rejected<user::rejection>>(&outcome)) {
    std::cerr << fmt::format("refused: {} ({})\n", user::to_string(no->why.code), no->why.detail);
  } else {
    std::cerr << "refused by the event store\n";
  }
  return false;
}

int run_add(const core::settings_source& source) {
  const auto email = source.required_text("CQRS_EMAIL");
  const auto normal = security::normalise_email(email);
  if (!normal) throw core::config_error("CQRS_EMAIL", normal.error().detail);
  const auto roles = split_roles(source.text("CQRS_ROLE", ""));
  const auto name = source.text("CQRS_NAME", "Administrator");
  const auto password = read_password();
  if (auto weak = security::check_new_password(password, normal.value())) {
    std::cerr << "cqrs users: the password (standard input): " << weak->detail << "\n";
    return 2;
  }
  const auto pii = security::load_pii_config(source);
  if (!pii) throw core::config_error("CQRS_PII_MASTER_KEY_FILE", "is required to store a user");
  auto keys = security::read_pii_keys(*pii);
  const auto store_of_keys = security::open_key_store(*pii);
  security::pii_vault vault(*store_of_keys, std::move(keys.ring), pii->vault);
  const security::password_hasher hasher(security::load_password_config(source).argon2);

  const auto id = core::event_id::generate().to_string();
  const auto stream = core::stream_id::trusted("user-" + id);
  core::store_options options;
  options.url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  core::event_store store(options);
  user::user_pipeline pipeline(store);
  schemas::register_user registration{schemas::sealed_text(sealed(vault, id, "email", email)),
                                      schemas::blind_index(keys.index.of_normalised(normal.value())),
                                      schemas::password_hash(hasher.hash(password)),
                                      schemas::sealed_text(sealed(vault, id, "name", name)),
                                      {},
                                      {}};
  if (!run(pipeline, stream, std::move(registration))) return 1;
  for (const auto& role : roles) {
    if (role == "customer") continue;
    if (!run(pipeline, stream, schemas::grant_user_role{schemas::user_role(role)})) return 1;
  }
  std::cout << id << "\n";
  return 0;
}

int run_users(const core::settings_source& source) {
  const auto action = source.text("CQRS_ACTION", "");
  if (action == "add") return run_add(source);
  throw core::config_error("CQRS_ACTION", fmt::format("'{}' is not an action: add", action));
}

std::vector<core::setting_spec> users_settings() {
  std::vector<core::setting_spec> specs = {
      {"CQRS_ACTION", "", "add", core::spec_kind::positional},
      {"CQRS_EMAIL", "", "add: the user's email", core::spec_kind::option},
      {"CQRS_NAME", "Administrator", "add: the user's name", core::spec_kind::option},
      {"CQRS_ROLE", "", "add: a role beyond customer; repeat for more (--role support --role admin)",
       core::spec_kind::option},
      {"CQRS_PG_URL", "", "PostgreSQL connection URL (the event store)"},
  };
  for (const auto& spec : security::security_settings()) specs.push_back(spec);
  return specs;
}

}  // namespace

subcommand users_subcommand() {
  return {"users", "manage users: add one (its password read from standard input)", users_settings(), run_users,
          {"CQRS_ROLE"}};
}

}  // namespace cqrs::tools::cli
