#include "gateway/auth_epochs.hpp"

#include <mutex>
#include <utility>
#include <vector>

#include "core/subject_rights.hpp"

namespace cqrs::gateway {

namespace {

// Each notification names a user whose row changed.
class receiver final : public pqxx::notification_receiver {
 public:
  receiver(pqxx::connection_base& c, std::vector<std::string>& names)
      : notification_receiver(c, std::string(core::subject_rights_channel)), names_(names) {}
  void operator()(const std::string& payload, int) override { names_.push_back(payload); }

 private:
  std::vector<std::string>& names_;
};

subject_rights rights_from(const pqxx::row& row) {
  subject_rights r;
  r.active = row[1].as<bool>();
  const auto text = row[2].as<std::string>();
  // {admin,customer}: roles are plain words, so the array's text form needs no unquoting.
  std::string role;
  for (const char c : text) {
    if (c == '{' || c == '}' || c == '"') continue;
    if (c == ',') {
      if (!role.empty()) r.roles.push_back(std::move(role));
      role.clear();
    } else {
      role += c;
    }
  }
  if (!role.empty()) r.roles.push_back(std::move(role));
  return r;
}

}  // namespace

auth_epochs::auth_epochs(std::string pg_url, std::chrono::milliseconds retry)
    : url_(std::move(pg_url)), retry_(retry), thread_([this](std::stop_token stop) { run(stop); }) {}

auth_epochs::~auth_epochs() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

std::optional<subject_rights> auth_epochs::rights_of(std::string_view subject) const {
  const std::shared_lock lock(mutex_);
  const auto found = rights_.find(std::string(subject));
  if (found == rights_.end()) return std::nullopt;
  return found->second;
}

void auth_epochs::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    try {
      listen_until_broken(stop);
    } catch (const std::exception&) {
      // PostgreSQL went away: what is in memory stays in force until the reload after reconnecting.
    }
    ready_ = false;
    for (auto waited = std::chrono::milliseconds(0); waited < retry_ && !stop.stop_requested();
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void auth_epochs::listen_until_broken(std::stop_token stop) {
  pqxx::connection connection(url_);
  std::vector<std::string> changed;
  receiver listening(connection, changed);
  // LISTEN is in force before the load: a change committed meanwhile is either loaded or notified.
  reload(connection);
  ready_ = true;
  while (!stop.stop_requested()) {
    // Wakes at least every 200 ms to see a stop request.
    connection.await_notification(0, 200'000);
    std::vector<std::string> names;
    names.swap(changed);
    for (const auto& name : names) refresh_one(connection, name);
  }
}

void auth_epochs::reload(pqxx::connection& connection) {
  pqxx::work tx(connection);
  core::ensure_subject_rights_table(tx);
  const auto rows = tx.exec("SELECT subject, active, roles FROM subject_rights");
  tx.commit();
  std::unordered_map<std::string, subject_rights> loaded;
  for (const auto& row : rows) loaded.emplace(row[0].as<std::string>(), rights_from(row));
  const std::unique_lock lock(mutex_);
  rights_ = std::move(loaded);
}

void auth_epochs::refresh_one(pqxx::connection& connection, const std::string& subject) {
  pqxx::read_transaction tx(connection);
  const auto rows = tx.exec_params("SELECT subject, active, roles FROM subject_rights WHERE subject = $1", subject);
  tx.commit();
  const std::unique_lock lock(mutex_);
  if (rows.empty()) {
    rights_.erase(subject);
  } else {
    rights_.insert_or_assign(subject, rights_from(rows[0]));
  }
}

}  // namespace cqrs::gateway
