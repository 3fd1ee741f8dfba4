#include "commands/command_pipeline.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <thread>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction>

#include "core/commit_notifier.hpp"
#include "core/group_commit.hpp"

namespace cqrs::commands {

// No `default:`: a new code without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::version_conflict: return "command.version_conflict";
    case errc::idempotency_key_reused: return "command.idempotency_key_reused";
    case errc::invalid_request: return "command.invalid_request";
  }
  throw std::invalid_argument("not a commands::errc value");
}

namespace detail {

namespace {

std::string or_else(const std::string& value, const std::string& fallback) { return value.empty() ? fallback : value; }

std::string hex(const unsigned char* bytes, unsigned int length) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0x0f]);
  }
  return out;
}

// Who holds the claim now (a stream claiming what it already holds is no conflict).
std::string holder(pqxx::work& tx, const unique_claim& claim, const core::stream_id& owner) {
  const auto rows = tx.exec_params("SELECT stream_id FROM unique_claims WHERE scope = $1 AND value = $2", claim.scope,
                                   claim.membership ? owner.str() : claim.value);
  return rows.empty() ? std::string() : rows[0][0].as<std::string>();
}

// Inserts each claim unless another stream holds it; the first claim held elsewhere, if any.
// ON CONFLICT DO NOTHING waits for a concurrent claimer's transaction to end, so of two
// concurrent claims of one value exactly one inserts.
std::optional<claim_taken> claim_all(pqxx::work& tx, const std::vector<unique_claim>& claims,
                                     const core::stream_id& owner) {
  for (const auto& claim : claims) {
    const auto inserted = tx.exec_params(
        "INSERT INTO unique_claims (scope, value, stream_id) VALUES ($1, $2, $3) ON CONFLICT (scope, value) DO NOTHING",
        claim.scope, claim.membership ? owner.str() : claim.value, owner.str());
    if (inserted.affected_rows() == 0 && holder(tx, claim, owner) != owner.str()) return claim_taken{claim};
  }
  return std::nullopt;
}

// True when every claim of the scope belongs to `owner` (and it holds one). The scope's rows are
// locked first, in key order (no deadlock between two releasers): a concurrent releaser waits
// for this transaction, then no longer sees the rows it deleted, so of two streams leaving a
// two-member scope at once the second finds itself the last.
bool last_of_scope(pqxx::work& tx, const std::string& scope, const core::stream_id& owner) {
  const auto rows =
      tx.exec_params("SELECT stream_id FROM unique_claims WHERE scope = $1 ORDER BY value FOR UPDATE", scope);
  bool holds = false;
  for (const auto& row : rows) {
    if (row[0].as<std::string>() != owner.str()) return false;
    holds = true;
  }
  return holds;
}

std::optional<release_refused> release_all(pqxx::work& tx, const std::vector<claim_release>& releases,
                                           const core::stream_id& owner) {
  for (const auto& release : releases) {
    if (release.keep_scope_nonempty && last_of_scope(tx, release.scope, owner)) return release_refused{release};
    tx.exec_params("DELETE FROM unique_claims WHERE scope = $1 AND stream_id = $2", release.scope, owner.str());
  }
  return std::nullopt;
}

claimed_append append_in_transaction(core::event_store& store, const core::append_request& request,
                                     const claim_changes& changes) {
  std::optional<claimed_append> out;
  // Nothing commits before tx.commit(); a lost commit reply raises in_doubt, which is not retried.
  store.connection().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::work tx(connection);
    if (auto refused = release_all(tx, changes.releases, request.stream)) {
      out = std::move(*refused);
      return;  // rolled back by tx's destructor
    }
    if (auto taken = claim_all(tx, changes.claims, request.stream)) {
      out = std::move(*taken);
      return;
    }
    auto appended = store.append_in(tx, request);
    if (!appended) {
      out = appended.error();
      return;
    }
    for (const auto& effect : changes.effects) effect(tx);
    tx.commit();
    out = std::move(appended).value();
  });
  return std::move(*out);
}

}  // namespace

std::variant<core::event_metadata, invalid_request> metadata_for(const command_context& context) {
  if (context.actor.empty()) {
    return invalid_request{core::make_error(core::errc::invalid_metadata, "a command needs an actor")};
  }
  const std::string command_id = or_else(context.command_id, core::event_id::generate().to_string());
  return core::event_metadata{command_id, or_else(context.correlation_id, command_id),
                              or_else(context.causation_id, command_id), context.actor};
}

std::string fingerprint(const core::stream_id& target, const schemas::encoded_payload& command) {
  const std::string text = fmt::format("{}\n{}\n{}\n{}", target.str(), command.type, command.schema_version, command.data);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return "sha256:" + hex(digest.data(), length);
}

std::string encode_outcome(const std::vector<core::event_id>& event_ids) {
  boost::json::array ids;
  for (const auto& id : event_ids) ids.emplace_back(id.to_string());
  return boost::json::serialize(boost::json::object{{"event_ids", std::move(ids)}});
}

accepted decode_outcome(const core::command_outcome& stored) {
  accepted out{stored.version.value_or(core::stream_version{0}), stored.position, {}, true, 0};
  const auto parsed = boost::json::parse(stored.outcome).as_object();
  for (const auto& id : parsed.at("event_ids").as_array()) {
    out.event_ids.push_back(core::event_id::parse(std::string(id.as_string())).value());
  }
  return out;
}

std::string encode_refusal(const std::string& rejection) {
  return boost::json::serialize(boost::json::object{{"rejected", rejection}});
}

std::optional<std::string> stored_refusal(const core::command_outcome& stored) {
  const auto parsed = boost::json::parse(stored.outcome).as_object();
  const auto* refusal = parsed.if_contains("rejected");
  if (refusal == nullptr) return std::nullopt;
  return std::string(refusal->as_string());
}

append_refusal classify(core::errc code) {
  switch (code) {
    case core::errc::version_conflict: return append_refusal::version_conflict;
    case core::errc::duplicate_idempotency_key: return append_refusal::duplicate_idempotency_key;
    case core::errc::invalid_stream_id:
    case core::errc::invalid_category:
    case core::errc::empty_event_list:
    case core::errc::too_many_events:
    case core::errc::invalid_event_type:
    case core::errc::invalid_schema_version:
    case core::errc::invalid_event_id:
    case core::errc::payload_too_large:
    case core::errc::append_too_large:
    case core::errc::invalid_metadata:
    case core::errc::invalid_expected_version:
    case core::errc::invalid_log_position:
    case core::errc::invalid_batch_size:
    case core::errc::invalid_idempotency_key:
    case core::errc::duplicate_event_id:  // ids are fresh UUIDs: only a bug could get here
      return append_refusal::invalid_request;
  }
  throw std::invalid_argument("not a core::errc value");
}

namespace {

// A backoff is made per command: opening std::random_device each time cost ~5 % of the
// gateway's CPU, so each thread seeds its backoffs from one engine of its own.
unsigned backoff_seed() {
  thread_local std::mt19937 seeds{std::random_device{}()};
  return seeds();
}

}  // namespace

backoff::backoff(const pipeline_options& options)
    : first_(options.first_backoff), max_(options.max_backoff), random_(backoff_seed()) {}

void backoff::wait(int attempt) {
  auto window = first_;
  for (int i = 1; i < attempt && window < max_; ++i) window *= 2;
  window = std::min(window, max_);
  std::uniform_int_distribution<std::int64_t> pick(0, window.count());
  std::this_thread::sleep_for(std::chrono::microseconds(pick(random_)));
}

claimed_append append_with_claims(core::event_store& store, const core::append_request& request,
                                  const claim_changes& changes, const pipeline_options& options) {
  if (changes.empty()) {
    // One round trip; the store notifies itself.
    auto appended = options.group != nullptr ? options.group->append(store, request) : store.append(request);
    if (!appended) return appended.error();
    return std::move(appended).value();
  }
  auto out = append_in_transaction(store, request, changes);
  if (options.notifier != nullptr && std::holds_alternative<core::append_success>(out)) options.notifier->committed();
  return out;
}

bool snapshot_due(core::stream_version from, core::stream_version to, std::int64_t every) {
  return every > 0 && to.value() / every > from.value() / every;
}

}  // namespace detail

}  // namespace cqrs::commands
