#include "gateway/json_fields.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace cqrs::gateway {

namespace json = boost::json;

namespace {

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "an unknown value";
}

// Boost.JSON keeps integers beyond int64 as uint64 and anything with a fraction, an exponent or
// beyond uint64 as double: each of those is a distinct mistake worth its own message.
std::string integer_complaint(const json::value& v) {
  constexpr auto range = "must be an integer from -9223372036854775808 to 9223372036854775807";
  if (v.is_uint64()) return range;
  if (!v.is_double()) return fmt::format("must be an integer, not {}", kind_name(v));
  const double d = v.get_double();
  if (d != std::trunc(d)) return "must be a whole number, not a fraction";
  if (std::fabs(d) >= 9.2233720368547758e18) return range;
  return "must be written as an integer, without a decimal point or exponent";
}

}  // namespace

std::string json_fields::text(std::string_view name) {
  const auto* v = member(name, true);
  if (v == nullptr || !is_string(name, *v)) return {};
  return std::string(v->get_string());
}

std::optional<std::string> json_fields::optional_text(std::string_view name) {
  const auto* v = member(name, false);
  if (v == nullptr || v->is_null() || !is_string(name, *v)) return std::nullopt;
  return std::string(v->get_string());
}

std::int64_t json_fields::integer(std::string_view name) {
  const auto* v = member(name, true);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  fail(name, integer_complaint(*v));
  return 0;
}

schemas::money json_fields::money(std::string_view name) {
  const auto* v = member(name, true);
  if (v == nullptr) return {};
  if (!v->is_object()) {
    fail(name, fmt::format("must be an object {{\"amount\", \"currency\"}}, not {}", kind_name(*v)));
    return {};
  }
  json_fields price(v->get_object(), path(name) + ".", errors_);
  schemas::money out{price.integer("amount"), schemas::currency_code(price.text("currency"))};
  price.reject_unread();
  return out;
}

void json_fields::reject_unread() {
  for (const auto& m : object_) {
    if (std::find(read_.begin(), read_.end(), m.key()) != read_.end()) continue;
    fail(m.key(), read_.empty() ? std::string("is not expected: this request takes no fields")
                                : fmt::format("is not a known field; expected {}", fmt::join(read_, ", ")));
  }
}

const json::value* json_fields::member(std::string_view name, bool required) {
  read_.push_back(name);
  const auto* v = object_.if_contains(name);
  if (v == nullptr && required) fail(name, "is required");
  return v;
}

bool json_fields::is_string(std::string_view name, const json::value& v) {
  if (v.is_string()) return true;
  fail(name, fmt::format("must be a string, not {}", kind_name(v)));
  return false;
}

const json::array* json_fields::array_of_objects(std::string_view name, std::size_t max_items) {
  const auto* v = member(name, true);
  if (v == nullptr) return nullptr;
  const auto* items = v->if_array();
  const bool objects = items != nullptr && std::all_of(items->begin(), items->end(), [](const json::value& item) {
    return item.is_object();
  });
  if (!objects) {
    fail(name, fmt::format("must be an array of objects, not {}", kind_name(*v)));
    return nullptr;
  }
  if (items->empty() || items->size() > max_items) {
    fail(name, fmt::format("must hold 1 to {} items, not {}", max_items, items->size()));
    return nullptr;
  }
  return items;
}

void json_fields::not_an_object(std::string_view name, const json::value& v) {
  fail(name, fmt::format("must be an object, not {}", kind_name(v)));
}

std::variant<json::object, http_response> body_object(const http_request& request) {
  boost::system::error_code failure;
  auto value = json::parse(request.body, failure);
  if (failure) return problem_response(errc::malformed_request, "the body is not valid JSON");
  if (!value.is_object()) return problem_response(errc::malformed_request, "the body must be a JSON object");
  return std::move(value.as_object());
}

http_response json_response(int status, const json::value& body) {
  return {status, {{"Content-Type", "application/json"}}, json::serialize(body)};
}

}  // namespace cqrs::gateway
