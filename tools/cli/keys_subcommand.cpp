// cqrs keys: the keys of personal data (docs/security.md).
//   cqrs keys generate --out FILE                 a new random key file (mode 0600)
//   cqrs keys status                              live data keys by the master key wrapping them
//   cqrs keys rotate-master --new-key-file FILE   re-wrap every data key with a new master key
// Rotation touches only the key store: events, messages and read models keep their sealed fields,
// which the data keys (unchanged) still open.

#include <iostream>
#include <map>
#include <string>

#include <fmt/format.h>

#include "core/security/pii_vault.hpp"
#include "core/security/security_config.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

namespace security = core::security;

security::pii_config required_pii_config(const core::settings_source& source) {
  auto config = security::load_pii_config(source);
  if (!config) throw core::config_error("CQRS_PII_MASTER_KEY_FILE", "is required: it names the current master key");
  return std::move(*config);
}

int run_generate(const core::settings_source& source) {
  const auto out = source.required_text("CQRS_OUT");
  try {
    const auto key = security::write_new_key_file(out);
    std::cout << fmt::format("wrote a new key to {} (id {})\n", out, key.id());
    return 0;
  } catch (const security::key_file_error& e) {
    throw core::config_error("CQRS_OUT", e.what());
  }
}

// Live data keys counted by the id of the master key that wraps them.
std::map<std::string, std::size_t> count_by_master(security::key_store& store) {
  std::map<std::string, std::size_t> counts;
  std::string after;
  while (true) {
    const auto page = store.list_after(after, 1000);
    for (const auto& row : page) ++counts[security::wrapped_master_id(row.wrapped).value_or("(malformed)")];
    if (page.size() < 1000) return counts;
    after = page.back().subject;
  }
}

int run_status(const core::settings_source& source) {
  const auto config = required_pii_config(source);
  const auto keys = security::read_pii_keys(config);
  const auto store = security::open_key_store(config);
  std::cout << fmt::format("current master key: {}\n", keys.ring.current_id());
  for (const auto& [id, count] : count_by_master(*store)) {
    std::cout << fmt::format("data keys wrapped by {}: {}{}\n", id, count, id == keys.ring.current_id() ? " (current)" : "");
  }
  return 0;
}

security::key256 read_new_key(const core::settings_source& source) {
  const auto path = source.required_text("CQRS_NEW_KEY_FILE");
  try {
    return security::read_key_file(path);
  } catch (const security::key_file_error& e) {
    throw core::config_error("CQRS_NEW_KEY_FILE", e.what());
  }
}

int run_rotate(const core::settings_source& source) {
  auto new_key = read_new_key(source);
  const auto config = required_pii_config(source);
  // Unwraps with the configured keys (current and previous: an unfinished earlier rotation).
  const auto ring = security::read_pii_keys(config).ring.rotated_to(std::move(new_key));
  const auto store = security::open_key_store(config);
  const auto report = security::rotate_master_key(*store, ring);
  const auto counts = count_by_master(*store);
  std::size_t left = 0;
  for (const auto& [id, count] : counts) left += id == ring.current_id() ? 0 : count;
  std::cout << fmt::format("re-wrapped {} data keys with master key {} ({} already were, {} forgotten meanwhile)\n",
                           report.rewrapped, ring.current_id(), report.already_current, report.destroyed_meanwhile);
  if (left != 0) {
    std::cerr << fmt::format("{} data keys are still wrapped by another master key: run the rotation again\n", left);
    return 1;
  }
  std::cout << fmt::format("next: point CQRS_PII_MASTER_KEY_FILE at {} in every process, then retire the old key\n",
                           source.required_text("CQRS_NEW_KEY_FILE"));
  return 0;
}

int run_keys(const core::settings_source& source) {
  const auto action = source.text("CQRS_ACTION", "");
  if (action == "generate") return run_generate(source);
  if (action == "status") return run_status(source);
  if (action == "rotate-master") return run_rotate(source);
  throw core::config_error("CQRS_ACTION", fmt::format("'{}' is not an action: generate, status or rotate-master", action));
}

std::vector<core::setting_spec> keys_settings() {
  std::vector<core::setting_spec> specs = {
      {"CQRS_ACTION", "", "generate, status or rotate-master", core::spec_kind::positional},
      {"CQRS_OUT", "", "generate: the new key file (refused if it exists)", core::spec_kind::option},
      {"CQRS_NEW_KEY_FILE", "", "rotate-master: the new master key's file", core::spec_kind::option},
      {"CQRS_PG_URL", "", "the event store (only checked to differ from the key store)"},
  };
  for (const auto& spec : security::security_settings()) {
    if (spec.env.starts_with("CQRS_PII_")) specs.push_back(spec);
  }
  return specs;
}

}  // namespace

subcommand keys_subcommand() {
  return {"keys", "manage the keys of personal data: generate a key file, show or rotate the master key",
          keys_settings(), run_keys};
}

}  // namespace cqrs::tools::cli
