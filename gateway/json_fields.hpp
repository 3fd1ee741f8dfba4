#pragma once

// Reading a request's JSON body strictly, for every route that takes one: each member read
// records a missing member or a wrong type under its dotted name ("price.amount") and returns a
// neutral value, so reading goes on and the caller hears of every problem at once;
// reject_unread() then records the members no read asked for. Integers are int64 only: a
// string, a fraction, an exponent or a number out of range is each reported with its own message.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "gateway/http_types.hpp"
#include "gateway/problem.hpp"
#include "schemas/contracts/value_types.hpp"

namespace cqrs::gateway {

class json_fields {
 public:
  json_fields(const boost::json::object& object, std::string prefix, std::vector<field_error>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  std::string text(std::string_view name);
  // Absent and null both mean "not given".
  std::optional<std::string> optional_text(std::string_view name);
  std::int64_t integer(std::string_view name);
  // {"amount": <integer minor units>, "currency": "EUR"}
  schemas::money money(std::string_view name);
  // A nested object, read by `read` with the member's dotted prefix; nothing (and an error)
  // when the member is missing or not an object.
  template <typename Read>
  auto object(std::string_view name, Read&& read) -> std::optional<decltype(read(std::declval<json_fields&>()))> {
    const auto* v = member(name, true);
    if (v == nullptr) return std::nullopt;
    if (!v->is_object()) {
      not_an_object(name, *v);
      return std::nullopt;
    }
    json_fields inner(v->get_object(), path(name) + ".", errors_);
    auto out = read(inner);
    inner.reject_unread();
    return out;
  }

  // An array of objects, each read by `read` with the prefix "<name>[<i>]."; at most `max_items`
  // (more, an empty array, or a member that is not an array of objects: an error naming it).
  template <typename Read>
  auto objects(std::string_view name, std::size_t max_items, Read&& read)
      -> std::vector<decltype(read(std::declval<json_fields&>()))> {
    std::vector<decltype(read(std::declval<json_fields&>()))> out;
    const auto* items = array_of_objects(name, max_items);
    if (items == nullptr) return out;
    for (std::size_t i = 0; i < items->size(); ++i) {
      json_fields inner((*items)[i].get_object(), path(name) + "[" + std::to_string(i) + "].", errors_);
      out.push_back(read(inner));
      inner.reject_unread();
    }
    return out;
  }
  // The prefix of this reader's members ("" at the top, "lines[0]." in an item).
  const std::string& prefix() const { return prefix_; }

  void reject_unread();

 private:
  // The member as a non-empty array of at most `max_items` objects, or null (and an error).
  const boost::json::array* array_of_objects(std::string_view name, std::size_t max_items);
  const boost::json::value* member(std::string_view name, bool required);
  bool is_string(std::string_view name, const boost::json::value& v);
  void not_an_object(std::string_view name, const boost::json::value& v);
  std::string path(std::string_view name) const { return prefix_ + std::string(name); }
  void fail(std::string_view name, std::string message) { errors_.push_back({path(name), std::move(message)}); }

  const boost::json::object& object_;
  std::string prefix_;
  std::vector<field_error>& errors_;
  std::vector<std::string_view> read_;
};

// The body as an object, or the malformed_request answer. The router has checked that it parses;
// this is parsed again (cheap, bounded by the body limit) rather than passed through its types.
std::variant<boost::json::object, http_response> body_object(const http_request& request);

http_response json_response(int status, const boost::json::value& body);

}  // namespace cqrs::gateway
