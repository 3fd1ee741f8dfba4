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
  return text;
}

template <typename T>
T from_cereal_json(std::string_view data) {
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
