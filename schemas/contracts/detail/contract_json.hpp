#pragma once

// A contract as a Boost.JSON value, written through its own cereal `serialize`, so the JSON
// names are the stored names by construction and a new field cannot be forgotten. Handles the
// shapes contracts are made of: strings, integers, booleans, strong values (bare), vectors and
// nested structs with a `serialize` (money, an order's lines, an address).

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <cereal/cereal.hpp>

#include "schemas/contracts/value_types.hpp"

namespace cqrs::schemas::detail {

template <typename T>
struct is_strong : std::false_type {};
template <typename T, typename Tag>
struct is_strong<strong_value<T, Tag>> : std::true_type {};

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

class json_fields_writer {
 public:
  template <typename... Items>
  void operator()(Items&&... items) {
    (write(items), ...);
  }
  boost::json::object take() { return std::move(out_); }

  template <typename T>
  static boost::json::value value_of(const T& value) {
    if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
      return boost::json::value(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      return boost::json::string(value);
    } else if constexpr (is_strong<T>::value) {
      return value_of(value.value());
    } else if constexpr (is_vector<T>::value) {
      boost::json::array all;
      for (const auto& item : value) all.push_back(value_of(item));
      return all;
    } else {
      return fields_of(value);
    }
  }

  // serialize is non-const by cereal's design; it only reads here.
  template <typename T>
  static boost::json::object fields_of(const T& value) {
    json_fields_writer writer;
    const_cast<T&>(value).serialize(writer);
    return writer.take();
  }

 private:
  template <typename T>
  void write(const cereal::NameValuePair<T>& item) {
    out_[item.name] = value_of(std::as_const(item.value));
  }

  boost::json::object out_;
};

// {"type": "...", "schema_version": N, "data": {...}}: a contract with its identity.
template <typename Contract>
boost::json::object with_identity(const Contract& contract) {
  return boost::json::object{{"type", Contract::type_name},
                             {"schema_version", Contract::schema_version},
                             {"data", json_fields_writer::fields_of(contract)}};
}

}  // namespace cqrs::schemas::detail
