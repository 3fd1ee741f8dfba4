#pragma once

// The stand-in processor's books: one entry per charge (its authorization, capture, void and
// refunds move one status), and the answers stored under idempotency keys. In memory and
// single-threaded (the server runs one io_context thread): a restart forgets everything, as a
// test's fresh provider should; docs/payment-provider.md says why it is not persisted.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace cqrs::tools::payment_provider {

enum class charge_status { pending, authorized, captured, voided, refunded, partially_refunded, declined };
std::string_view to_string(charge_status status);

// The test card tokens and what each does.
enum class card_outcome { approve, decline, insufficient_funds, pending };
std::optional<card_outcome> card_for(std::string_view token);

struct charge_request {
  std::int64_t amount = 0;
  std::string currency;
  std::string card_token;
  bool capture = true;
  std::string payment_id;
  std::string idempotency_key;
};

struct refund {
  std::string id;
  std::int64_t amount = 0;
};

struct charge {
  std::string id;
  std::string payment_id;
  std::int64_t amount = 0;
  std::string currency;
  std::string card_token;
  std::string idempotency_key;
  bool capture = true;  // captured as soon as authorized (also when a pending charge settles)
  charge_status status = charge_status::pending;
  std::int64_t refunded = 0;
  std::vector<refund> refunds;
  std::string failure_code;  // card_declined or insufficient_funds when declined
};

boost::json::object to_json(const charge& c);

// Why an operation on a charge was refused.
enum class ledger_errc { ok, not_found, invalid_state, amount_too_large };

// An answer as stored under an idempotency key: replayed byte for byte.
struct stored_answer {
  std::string fingerprint;  // method, path and parsed body of the first request
  unsigned status = 0;
  std::string body;
};

class ledger {
 public:
  // Records the charge and decides it by its card token (the token must be known).
  const charge& create(const charge_request& request);
  // pending -> authorized or captured; nullptr when `id` is not pending.
  const charge* settle(const std::string& id);
  ledger_errc capture(const std::string& id);
  ledger_errc void_charge(const std::string& id);
  // `amount` empty: what remains refundable. Refunds never sum above the captured amount.
  ledger_errc refund(const std::string& id, std::optional<std::int64_t> amount);

  const charge* find(const std::string& id) const;
  const charge* find_by_idempotency_key(std::string_view key) const;
  std::vector<const charge*> find_by_payment_id(std::string_view payment_id) const;
  const std::vector<charge>& charges() const { return charges_; }

  const stored_answer* answer_for(const std::string& key) const;
  void store_answer(const std::string& key, stored_answer answer);

  void clear();

 private:
  charge* find_mutable(const std::string& id);

  std::vector<charge> charges_;             // creation order, for the ledger view
  std::map<std::string, std::size_t> by_id_;  // index into charges_
  std::map<std::string, stored_answer> answers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace cqrs::tools::payment_provider
