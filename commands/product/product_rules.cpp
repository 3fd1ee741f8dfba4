#include "commands/product/product_rules.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "commands/product/product_limits.hpp"

namespace cqrs::commands::product::rules {

namespace {

bool is_upper_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_upper_alnum(c) || (c >= 'a' && c <= 'z'); }
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
bool is_space(char c) { return c == ' ' || c == '\t'; }

rejection fail(errc code, std::string detail) { return rejection{code, std::move(detail)}; }

// Length of the UTF-8 sequence that `lead` starts, 0 when it cannot start one.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Rejects overlong forms, UTF-16 surrogates and code points past U+10FFFF.
bool second_byte_ok(unsigned char lead, unsigned char second) {
  if (lead == 0xe0) return second >= 0xa0;
  if (lead == 0xed) return second <= 0x9f;
  if (lead == 0xf0) return second >= 0x90;
  if (lead == 0xf4) return second <= 0x8f;
  return true;
}

bool is_continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const auto length = sequence_length(lead);
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return false;
    }
    if (length > 1 && !second_byte_ok(lead, static_cast<unsigned char>(text[i + 1]))) return false;
    i += length;
  }
  return true;
}

// Upper-case letters, digits and . _ - (starting with a letter or digit): unambiguous when read
// aloud or typed, and no case folding is needed to compare two SKUs.
std::optional<rejection> check_sku(const schemas::sku& code) {
  const auto& text = code.value();
  const bool well_formed =
      !text.empty() && text.size() <= limits::max_sku_length && is_upper_alnum(text.front()) &&
      std::all_of(text.begin(), text.end(), [](char c) { return is_upper_alnum(c) || c == '.' || c == '_' || c == '-'; });
  if (well_formed) return std::nullopt;
  return fail(errc::invalid_sku,
              fmt::format("a SKU is 1 to {} characters A-Z 0-9 . _ -, starting with a letter or digit",
                          limits::max_sku_length));
}

std::optional<rejection> check_name(std::string_view name) {
  const bool blank = std::all_of(name.begin(), name.end(), is_space);
  const bool ok = !blank && name.size() <= limits::max_name_length && is_valid_utf8(name) &&
                  std::none_of(name.begin(), name.end(), is_control);
  if (ok) return std::nullopt;
  return fail(errc::invalid_name, fmt::format("a name is 1 to {} bytes of UTF-8 text on one line, not blank",
                                              limits::max_name_length));
}

std::optional<rejection> check_description(std::string_view description) {
  if (description.size() <= limits::max_description_length && is_valid_utf8(description)) return std::nullopt;
  return fail(errc::invalid_description,
              fmt::format("a description is at most {} bytes of UTF-8 text", limits::max_description_length));
}

std::optional<rejection> check_price(const schemas::money& price) {
  const auto& currency = price.currency.value();
  const bool currency_ok =
      currency.size() == 3 && std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!currency_ok) return fail(errc::invalid_currency, "a currency is an ISO 4217 code of three capital letters");
  if (price.amount_minor > 0 && price.amount_minor <= limits::max_price_minor) return std::nullopt;
  return fail(errc::invalid_price,
              fmt::format("a price is 1 to {} minor units of its currency", limits::max_price_minor));
}

std::optional<rejection> check_quantity(const schemas::quantity& units) {
  if (units.value() > 0 && units.value() <= limits::max_quantity) return std::nullopt;
  return fail(errc::invalid_quantity, fmt::format("a quantity is 1 to {} units", limits::max_quantity));
}

std::optional<rejection> check_initial_stock(std::int64_t units) {
  if (units >= 0 && units <= limits::max_quantity) return std::nullopt;
  return fail(errc::invalid_quantity, fmt::format("initial stock is 0 to {} units", limits::max_quantity));
}

std::optional<rejection> check_reservation_id(const schemas::reservation_id& id) {
  const auto& text = id.value();
  const bool ok = !text.empty() && text.size() <= limits::max_reservation_id_length &&
                  std::all_of(text.begin(), text.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_'; });
  if (ok) return std::nullopt;
  return fail(errc::invalid_reservation_id,
              fmt::format("a reservation id is 1 to {} characters A-Z a-z 0-9 - _", limits::max_reservation_id_length));
}

std::optional<rejection> check_reason(std::string_view reason) {
  if (reason.size() <= limits::max_reason_length && is_valid_utf8(reason)) return std::nullopt;
  return fail(errc::invalid_reason, fmt::format("a reason is at most {} bytes of UTF-8 text", limits::max_reason_length));
}

}  // namespace cqrs::commands::product::rules
