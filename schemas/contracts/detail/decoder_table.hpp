#pragma once

// Maps (type name, schema version) to a function that reads a payload and lifts it to the
// current version of its type, as an alternative of `Variant`. Only for .cpp files (it includes
// cereal's JSON archive).

#include <map>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/detail/cereal_json.hpp"
#include "schemas/contracts/encoded_payload.hpp"

namespace cqrs::schemas::detail {

template <typename Variant>
class decoder_table {
 public:
  using decode_fn = Variant (*)(std::string_view);

  // Registers T (a current contract or an older version with `upcast`).
  template <typename T>
  decoder_table& add() {
    const auto inserted = table_.emplace(key{std::string(T::type_name), T::schema_version},
                                         [](std::string_view data) -> Variant { return lift(from_cereal_json<T>(data)); });
    if (!inserted.second) throw std::logic_error(fmt::format("{} v{} registered twice", T::type_name, T::schema_version));
    return *this;
  }

  bool knows(std::string_view type, int schema_version) const {
    return table_.find(key{std::string(type), schema_version}) != table_.end();
  }

  std::vector<std::pair<std::string, int>> versions() const {
    std::vector<std::pair<std::string, int>> all;
    for (const auto& entry : table_) all.push_back(entry.first);
    return all;
  }

  Variant decode(std::string_view type, int schema_version, std::string_view data) const {
    const auto found = table_.find(key{std::string(type), schema_version});
    if (found == table_.end()) throw contract_error(fmt::format("unknown contract {} v{}", type, schema_version));
    return found->second(data);
  }

 private:
  using key = std::pair<std::string, int>;
  std::map<key, decode_fn> table_;
};

template <typename Variant, typename... T>
decoder_table<Variant> current_versions_of(std::variant<T...>*) {
  decoder_table<Variant> table;
  (table.template add<T>(), ...);
  return table;
}

// A table of every alternative of `Variant` at its current version (a domain adds its older
// versions, with their upcasts, to it).
template <typename Variant>
decoder_table<Variant> current_versions() {
  return current_versions_of<Variant>(static_cast<Variant*>(nullptr));
}

}  // namespace cqrs::schemas::detail

namespace cqrs::schemas::detail {

// The stored form of whichever contract `value` holds, at its current version.
template <typename Variant>
encoded_payload encode_any(const Variant& value) {
  return std::visit(
      [](const auto& contract) {
        using T = std::decay_t<decltype(contract)>;
        return encoded_payload{std::string(T::type_name), T::schema_version, to_cereal_json(contract)};
      },
      value);
}

}  // namespace cqrs::schemas::detail
