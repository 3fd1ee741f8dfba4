#include "tests/pg_write/user_fixture.hpp"

#include <latch>
#include <thread>

#include <openssl/evp.h>
#include <pqxx/pqxx>

#include "core/migrations.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tests/pg_write/write_fixture.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::write {

namespace {

const core::upcaster_registry& upcasters() {
  static const core::upcaster_registry registry = [] {
    core::upcaster_registry r;
    schemas::register_upcasters(r);
    return r;
  }();
  return registry;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(digits[digest[i] >> 4]);
    hex.push_back(digits[digest[i] & 0x0f]);
  }
  return hex;
}

// The same server, another database: the URL's last path segment replaced.
std::string with_database(const std::string& url, const std::string& database) {
  const auto query = url.find('?');
  const auto path_end = query == std::string::npos ? url.size() : query;
  const auto slash = url.rfind('/', path_end);
  return url.substr(0, slash + 1) + database + url.substr(path_end);
}

std::string create_private_database() {
  const std::string name = "cqrs_users_" + run_id();
  {
    pqxx::connection admin(pg_url());
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + name);
  }
  const auto url = with_database(pg_url(), name);
  pqxx::connection connection(url);
  core::apply_migrations(connection, core::load_migrations(core::default_migrations_dir()));
  return url;
}

}  // namespace

core::stream_id user_stream(std::string_view name) {
  return core::stream_id::parse("user-" + run_id() + "_" + std::string(name)).value();
}

schemas::blind_index unique_index(std::string_view name) {
  return schemas::blind_index(sha256_hex(run_id() + "/" + std::string(name)));
}

schemas::register_user new_user(const schemas::blind_index& index) {
  return schemas::register_user{schemas::sealed_text("v1:c2VhbGVkLW1haWw="), index,
                                schemas::password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
                                schemas::sealed_text("v1:bmFtZQ=="), schemas::sealed_text(""),
                                schemas::sealed_text("")};
}

bool is_accepted(const commands::user::user_outcome& outcome) {
  return std::holds_alternative<commands::accepted>(outcome);
}

bool refused_with(const commands::user::user_outcome& outcome, commands::user::errc code) {
  const auto* no = std::get_if<commands::rejected<commands::user::rejection>>(&outcome);
  return no != nullptr && no->why.code == code;
}

std::unique_ptr<core::event_store> make_store_on(const std::string& url) {
  core::store_options options;
  options.url = url;
  options.upcasters = &upcasters();
  return std::make_unique<core::event_store>(std::move(options));
}

std::vector<commands::user::user_outcome> run_concurrently(const std::string& url,
                                                           const std::vector<commands::user::user_envelope>& commands) {
  std::latch start(static_cast<std::ptrdiff_t>(commands.size()));
  std::vector<std::optional<commands::user::user_outcome>> outcomes(commands.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    threads.emplace_back([&, i] {
      auto store = make_store_on(url);
      (void)store->current_version(commands[i].target);  // connected before the start line
      commands::user::user_pipeline pipeline(*store);
      start.arrive_and_wait();
      outcomes[i] = pipeline.handle(commands[i]);
    });
  }
  for (auto& t : threads) t.join();
  std::vector<commands::user::user_outcome> out;
  for (auto& o : outcomes) out.push_back(std::move(*o));
  return out;
}

const std::string& private_database_url() {
  static const std::string url = create_private_database();
  return url;
}

std::vector<std::string> claim_holders(const std::string& url, std::string_view scope) {
  pqxx::connection connection(url);
  pqxx::read_transaction tx(connection);
  std::vector<std::string> holders;
  for (const auto& row : tx.exec_params("SELECT stream_id FROM unique_claims WHERE scope = $1 ORDER BY stream_id",
                                        std::string(scope))) {
    holders.push_back(row[0].as<std::string>());
  }
  return holders;
}

}  // namespace cqrs::tests::write
