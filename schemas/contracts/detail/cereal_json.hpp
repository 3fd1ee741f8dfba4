#pragma once

// cereal JSON (de)serialization of one contract as a flat JSON object. Include this header only
// from .cpp files, and before anything that could pull in rapidjson: cereal's JSON archive sets
// rapidjson's assertion hook so that malformed input throws instead of aborting (stack facts).

#include <cereal/archives/json.hpp>

#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "schemas/contracts/contract_error.hpp"

namespace cqrs::schemas::detail {

// Fields are written straight into the root object ({"sku":"A-1",...}), not under a wrapper
// name, so a payload reads naturally in psql and in the replay tool.
template <typename T>
std::string to_cereal_json(const T& value) {
  std::ostringstream out;
  {
    cereal::JSONOutputArchive archive(out, cereal::JSONOutputArchive::Options::NoIndent());
    const_cast<T&>(value).serialize(archive);  // cereal's member serialize is non-const by design
  }
  // cereal always pretty-prints (NoIndent keeps the line breaks). A raw line break can only stand
  // between tokens, since JSON strings escape theirs, so dropping them all is safe.
  auto text = out.str();
  std::erase(text, '\n');
  // A contract without fields (order.paid) writes nothing at all: store it as an empty object.
  if (text.empty()) text = "{}";
  return text;
}

// rapidjson 1.1.0 (Debian 12's, under cereal's archive) reads out of bounds converting a number
// written with hundreds of digits ("0.000..."; fixed in rapidjson's sources after its last
// release). No contract holds such a number (an integer has at most 20 characters, a double's
// shortest form 24), so a longer one is refused before rapidjson sees it.
inline constexpr std::size_t longest_number = 64;

inline bool has_overlong_number(std::string_view json) {
  bool in_string = false;
  std::size_t run = 0;  // characters of the number (or literal) being read
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;  // an escape: the next character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    in_string = c == '"';
    const bool numeric = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    run = numeric ? run + 1 : 0;
    if (run > longest_number) return true;
  }
  return false;
}

template <typename T>
T from_cereal_json(std::string_view data) {
  if (has_overlong_number(data)) {
    throw contract_error(fmt::format("cannot read {} v{}: a number of more than {} characters", T::type_name,
                                     T::schema_version, longest_number));
  }
  T value;
  try {
    std::istringstream in{std::string(data)};
    cereal::JSONInputArchive archive(in);
    value.serialize(archive);
  } catch (const cereal::Exception& e) {
    throw contract_error(fmt::format("cannot read {} v{}: {}", T::type_name, T::schema_version, e.what()));
  }
  return value;
}

// Applies `upcast` until the current version of the type is reached.
template <typename T>
auto lift(const T& value) {
  if constexpr (requires { T::upcast(value); }) {
    return lift(T::upcast(value));
  } else {
    return value;
  }
}

}  // namespace cqrs::schemas::detail
