#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "core/security/pg_key_store.hpp"
#include "core/security/pii_vault.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/security_pg_fixture.hpp"
#include "tests/support/stack.hpp"
#include "tests/unit/security_support.hpp"

using namespace cqrs::core::security;
using cqrs::tests::run_id;

namespace {

vault_options uncached() {
  vault_options options;
  options.cache_ttl = std::chrono::milliseconds(0);
  return options;
}

struct sealed_field {
  std::string subject;
  std::string field;
  std::string plaintext;
  std::string sealed;
};

// A key store of its own (so every row in it is this test's), users with sealed fields, one of
// them forgotten, and the sealed fields appended to the event store as events.
struct rotation_world {
  cqrs::tests::scratch_dir dir;
  std::string keystore_url;
  std::filesystem::path old_key_file = dir.path() / "master-old.key";
  std::filesystem::path new_key_file = dir.path() / "master-new.key";
  std::filesystem::path index_key_file = dir.path() / "index.key";
  key256 old_key = write_new_key_file(old_key_file);
  key256 new_key = write_new_key_file(new_key_file);
  std::vector<sealed_field> fields;
  std::string forgotten;
  std::unique_ptr<cqrs::core::event_store> events = cqrs::tests::make_store();
  cqrs::core::stream_id stream = cqrs::tests::stream_in(cqrs::tests::unique_category("rotation"), "log");

  explicit rotation_world(std::string_view name)
      : keystore_url(cqrs::tests::database_beside_event_store("cqrs_keys_" + std::string(name) + "_" + run_id())) {
    (void)write_new_key_file(index_key_file);
    pg_key_store store(keystore_url);
    pii_vault vault(store, master_keyring(old_key), uncached());
    for (int user = 0; user < 12; ++user) {
      const auto who = "user-" + std::to_string(user);
      for (const std::string field : {"email", "name"}) {
        const auto text = field + " of " + who;
        fields.push_back({who, field, text, vault.seal(who, {who, field}, text).value()});
        REQUIRE(events->append(stream, cqrs::core::expected_version::any(), {cqrs::tests::make_event("sealed", fields.back().sealed)}).ok());
      }
    }
    forgotten = "user-5";
    vault.forget(forgotten);
  }

  std::vector<std::string> event_payloads() const {
    std::vector<std::string> payloads;
    for (const auto& event : cqrs::tests::whole_stream(*events, stream)) payloads.push_back(event.payload);
    return payloads;
  }

  // Every live row's master key id.
  std::vector<std::string> wrapping_ids() {
    pg_key_store store(keystore_url);
    std::vector<std::string> ids;
    for (const auto& row : store.list_after("", 1000)) ids.push_back(wrapped_master_id(row.wrapped).value_or("?"));
    return ids;
  }

  void check_fields_open_with(const master_keyring& ring) {
    pg_key_store store(keystore_url);
    pii_vault vault(store, ring, uncached());
    for (const auto& f : fields) {
      const auto opened = vault.open(f.subject, {f.subject, f.field}, f.sealed);
      if (f.subject == forgotten) {
        CHECK(opened.is_erased());
      } else {
        REQUIRE(opened.is_plain());
        CHECK(opened.text() == f.plaintext);
      }
    }
  }
};

struct command_result {
  int status;
  std::string output;
};

std::string shell_quoted(const std::string& text) { return "'" + text + "'"; }

// Runs the operators' command, as an operator would, with the settings in its environment.
command_result run_cqrs(const std::string& arguments, const std::string& environment) {
  const std::string command = environment + " " + CQRS_CLI_BINARY + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("cqrs keys rotate-master re-wraps every data key; old fields open with the new key alone; events are untouched") {
  rotation_world world("cli");
  const auto payloads_before = world.event_payloads();
  REQUIRE(payloads_before.size() == world.fields.size());
  const auto before = world.wrapping_ids();
  CHECK(before.size() == 11);  // twelve users, one forgotten
  for (const auto& id : before) CHECK(id == world.old_key.id());

  const auto environment = "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted(world.old_key_file.string()) +
                           " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted(world.index_key_file.string()) +
                           " CQRS_PII_KEYSTORE_URL=" + shell_quoted(world.keystore_url) +
                           " CQRS_PG_URL=" + shell_quoted(cqrs::tests::pg_url());
  const auto rotated = run_cqrs("keys rotate-master --new-key-file " + shell_quoted(world.new_key_file.string()), environment);
  INFO(rotated.output);
  CHECK(rotated.status == 0);
  CHECK(rotated.output.find("re-wrapped 11 data keys with master key " + world.new_key.id()) != std::string::npos);

  const auto after = world.wrapping_ids();
  CHECK(after.size() == 11);
  for (const auto& id : after) CHECK(id == world.new_key.id());
  world.check_fields_open_with(master_keyring(world.new_key));  // the old master key is not needed any more
  CHECK(world.event_payloads() == payloads_before);

  // Again: nothing left to do, and it says so.
  const auto again = run_cqrs("keys rotate-master --new-key-file " + shell_quoted(world.new_key_file.string()),
                              "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted(world.new_key_file.string()) +
                                  " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted(world.index_key_file.string()) +
                                  " CQRS_PII_KEYSTORE_URL=" + shell_quoted(world.keystore_url));
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK(again.output.find("re-wrapped 0 data keys") != std::string::npos);
  CHECK(again.output.find("11 already were") != std::string::npos);

  const auto status = run_cqrs("keys status", "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted(world.new_key_file.string()) +
                                                  " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted(world.index_key_file.string()) +
                                                  " CQRS_PII_KEYSTORE_URL=" + shell_quoted(world.keystore_url));
  CHECK(status.status == 0);
  CHECK(status.output.find("data keys wrapped by " + world.new_key.id() + ": 11 (current)") != std::string::npos);
}

TEST_CASE("cqrs keys rotate-master refuses a missing new key file and a key store in the event store's database") {
  rotation_world world("refusals");
  const auto base = "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted(world.old_key_file.string()) +
                    " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted(world.index_key_file.string());
  const auto missing = run_cqrs("keys rotate-master --new-key-file /nonexistent/key",
                                base + " CQRS_PII_KEYSTORE_URL=" + shell_quoted(world.keystore_url));
  CHECK(missing.status == 2);
  CHECK(missing.output.find("--new-key-file") != std::string::npos);
  const auto same_db = run_cqrs("keys rotate-master --new-key-file " + shell_quoted(world.new_key_file.string()),
                                base + " CQRS_PII_KEYSTORE_URL=" + shell_quoted(cqrs::tests::pg_url()) +
                                    " CQRS_PG_URL=" + shell_quoted(cqrs::tests::pg_url()));
  CHECK(same_db.status == 2);
  CHECK(same_db.output.find("CQRS_PII_KEYSTORE_URL") != std::string::npos);
  for (const auto& id : world.wrapping_ids()) CHECK(id == world.old_key.id());  // nothing changed
}

TEST_CASE("a rotation interrupted and run again finishes; a ring without the old key cannot rotate") {
  rotation_world world("library");
  pg_key_store store(world.keystore_url);
  CHECK_THROWS_AS((void)rotate_master_key(store, master_keyring(world.new_key)), crypto_error);
  // Half done: the first page re-wrapped, then a stop.
  const auto ring = master_keyring(world.old_key).rotated_to(world.new_key);
  const auto first_page = store.list_after("", 4);
  for (const auto& row : first_page) {
    const auto key = unwrap_data_key(ring, row.subject, row.key_id, row.wrapped);
    REQUIRE(store.rewrap(row.subject, row.wrapped, wrap_data_key(ring, row.subject, key)));
  }
  const auto report = rotate_master_key(store, ring, 3);
  CHECK(report.already_current == 4);
  CHECK(report.rewrapped == 7);
  for (const auto& id : world.wrapping_ids()) CHECK(id == world.new_key.id());
  world.check_fields_open_with(master_keyring(world.new_key));
}

TEST_CASE("cqrs config reads and checks the key files with every other setting") {
  const cqrs::tests::scratch_dir dir;
  const auto master = write_new_key_file(dir.path() / "master.key");
  (void)write_new_key_file(dir.path() / "index.key");
  const auto keystore = shell_quoted(cqrs::tests::keystore_url());
  const auto valid = run_cqrs("config", "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted((dir.path() / "master.key").string()) +
                                            " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted((dir.path() / "index.key").string()) +
                                            " CQRS_PII_KEYSTORE_URL=" + keystore);
  INFO(valid.output);
  CHECK(valid.status == 0);
  CHECK(valid.output.find("(key id " + master.id() + ")") != std::string::npos);
  CHECK(valid.output.find("settings: valid") != std::string::npos);
  const auto same_key = run_cqrs("config", "CQRS_PII_MASTER_KEY_FILE=" + shell_quoted((dir.path() / "master.key").string()) +
                                               " CQRS_PII_INDEX_KEY_FILE=" + shell_quoted((dir.path() / "master.key").string()) +
                                               " CQRS_PII_KEYSTORE_URL=" + keystore);
  INFO(same_key.output);
  CHECK(same_key.status == 2);
  CHECK(same_key.output.find("cqrs config: CQRS_PII_INDEX_KEY_FILE: holds the master key") != std::string::npos);
  const auto weak = run_cqrs("config", "CQRS_ARGON2_MEMORY_KIB=4096");
  CHECK(weak.status == 2);
  CHECK(weak.output.find("CQRS_ARGON2_MEMORY_KIB") != std::string::npos);
}
