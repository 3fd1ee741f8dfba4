#include "tools/payment_provider/ledger.hpp"

#include <boost/json/array.hpp>
#include <fmt/format.h>

namespace cqrs::tools::payment_provider {

std::string_view to_string(charge_status status) {
  switch (status) {
    case charge_status::pending: return "pending";
    case charge_status::authorized: return "authorized";
    case charge_status::captured: return "captured";
    case charge_status::voided: return "voided";
    case charge_status::refunded: return "refunded";
    case charge_status::partially_refunded: return "partially_refunded";
    case charge_status::declined: return "declined";
  }
  return "unknown";
}

std::optional<card_outcome> card_for(std::string_view token) {
  if (token == "tok_ok") return card_outcome::approve;
  if (token == "tok_decline") return card_outcome::decline;
  if (token == "tok_insufficient_funds") return card_outcome::insufficient_funds;
  if (token == "tok_pending") return card_outcome::pending;
  return std::nullopt;
}

boost::json::object to_json(const charge& c) {
  boost::json::array refunds;
  for (const auto& r : c.refunds) refunds.push_back(boost::json::object{{"id", r.id}, {"amount", r.amount}});
  boost::json::object out{
      {"id", c.id},
      {"status", to_string(c.status)},
      {"amount", c.amount},
      {"currency", c.currency},
      {"captured", c.status == charge_status::captured || c.status == charge_status::refunded ||
                       c.status == charge_status::partially_refunded},
      {"amount_refunded", c.refunded},
      {"refunds", std::move(refunds)},
      {"idempotency_key", c.idempotency_key},
      {"metadata", boost::json::object{{"payment_id", c.payment_id}}},
  };
  if (!c.failure_code.empty()) out["failure_code"] = c.failure_code;
  return out;
}

const charge& ledger::create(const charge_request& request) {
  charge c;
  c.id = fmt::format("ch_{:06}", next_id_++);
  c.payment_id = request.payment_id;
  c.amount = request.amount;
  c.currency = request.currency;
  c.card_token = request.card_token;
  c.idempotency_key = request.idempotency_key;
  c.capture = request.capture;
  switch (card_for(request.card_token).value_or(card_outcome::decline)) {
    case card_outcome::approve:
      c.status = request.capture ? charge_status::captured : charge_status::authorized;
      break;
    case card_outcome::decline:
      c.status = charge_status::declined;
      c.failure_code = "card_declined";
      break;
    case card_outcome::insufficient_funds:
      c.status = charge_status::declined;
      c.failure_code = "insufficient_funds";
      break;
    case card_outcome::pending: c.status = charge_status::pending; break;
  }
  by_id_.emplace(c.id, charges_.size());
  charges_.push_back(std::move(c));
  return charges_.back();
}

const charge* ledger::settle(const std::string& id) {
  auto* c = find_mutable(id);
  if (c == nullptr || c->status != charge_status::pending) return nullptr;
  c->status = c->capture ? charge_status::captured : charge_status::authorized;
  return c;
}

ledger_errc ledger::capture(const std::string& id) {
  auto* c = find_mutable(id);
  if (c == nullptr) return ledger_errc::not_found;
  if (c->status != charge_status::authorized) return ledger_errc::invalid_state;
  c->status = charge_status::captured;
  return ledger_errc::ok;
}

ledger_errc ledger::void_charge(const std::string& id) {
  auto* c = find_mutable(id);
  if (c == nullptr) return ledger_errc::not_found;
  if (c->status != charge_status::authorized) return ledger_errc::invalid_state;
  c->status = charge_status::voided;
  return ledger_errc::ok;
}

ledger_errc ledger::refund(const std::string& id, std::optional<std::int64_t> amount) {
  auto* c = find_mutable(id);
  if (c == nullptr) return ledger_errc::not_found;
  if (c->status != charge_status::captured && c->status != charge_status::partially_refunded) {
    return ledger_errc::invalid_state;
  }
  const auto remaining = c->amount - c->refunded;
  const auto value = amount.value_or(remaining);
  if (value > remaining) return ledger_errc::amount_too_large;
  c->refunded += value;
  c->refunds.push_back({fmt::format("re_{:06}", next_id_++), value});
  c->status = c->refunded == c->amount ? charge_status::refunded : charge_status::partially_refunded;
  return ledger_errc::ok;
}

const charge* ledger::find(const std::string& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &charges_[it->second];
}

charge* ledger::find_mutable(const std::string& id) {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &charges_[it->second];
}

const charge* ledger::find_by_idempotency_key(std::string_view key) const {
  for (const auto& c : charges_) {
    if (c.idempotency_key == key) return &c;
  }
  return nullptr;
}

std::vector<const charge*> ledger::find_by_payment_id(std::string_view payment_id) const {
  std::vector<const charge*> out;
  for (const auto& c : charges_) {
    if (c.payment_id == payment_id) out.push_back(&c);
  }
  return out;
}

const stored_answer* ledger::answer_for(const std::string& key) const {
  const auto it = answers_.find(key);
  return it == answers_.end() ? nullptr : &it->second;
}

void ledger::store_answer(const std::string& key, stored_answer answer) { answers_.emplace(key, std::move(answer)); }

void ledger::clear() {
  charges_.clear();
  by_id_.clear();
  answers_.clear();
}

}  // namespace cqrs::tools::payment_provider
