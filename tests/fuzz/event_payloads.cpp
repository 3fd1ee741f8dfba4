// Harness event_payloads: stored event payloads, decoded and upcast. The input's first byte picks
// a contract (every readable event type and schema version of every domain, older versions
// included), the rest is the stored payload bytes. Each is read the two
// ways the engine reads stored events: through the event store's byte-level upcasters
// (core/upcasting.hpp, as registered by schemas/contracts/catalog.hpp) and then decoded at the
// version they end at, and decoded directly at its stored version (the codec lifts it in memory,
// as replay and inspection do). Promises checked:
//   - unreadable bytes throw contract_error, nothing else;
//   - both ways agree: the same JSON, or both refuse;
//   - what decodes, encodes and decodes again to the same value.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/serialize.hpp>

#include "core/upcasting.hpp"
#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

struct contracts {
  contracts() {
    schemas::register_upcasters(upcasters);
    for (const auto& info : schemas::event_contracts()) {
      for (const int version : info.readable_versions) events.emplace_back(info.name, version);
    }
  }
  core::upcaster_registry upcasters;
  std::vector<std::pair<std::string, int>> events;
};

const contracts& catalog() {
  static const contracts c;
  return c;
}

// The JSON form, or nothing when the bytes are refused (contract_error).
template <typename Decode>
std::optional<std::string> read_or_refuse(Decode&& decode) {
  try {
    return boost::json::serialize(decode());
  } catch (const schemas::contract_error&) {
    return std::nullopt;
  }
}

void read_event(const std::string& type, int version, std::string_view data) {
  const auto direct = read_or_refuse([&] { return schemas::stored_event_to_json(type, version, data); });
  const auto through_store = read_or_refuse([&] {
    std::string payload(data);
    const int current = catalog().upcasters.upcast(type, version, payload);
    return schemas::stored_event_to_json(type, current, payload);
  });
  expect(direct.has_value() == through_store.has_value(), "upcast and direct reads disagree on readability", type);
  if (direct) expect(*direct == *through_store, "upcast and direct reads differ", *direct + " vs " + *through_store);
  if (!direct || !schemas::is_product_event(type, version)) return;
  const auto event = schemas::decode_product_event(type, version, data);
  const auto stored = schemas::encode(event);
  expect(schemas::decode_product_event(stored.type, stored.schema_version, stored.data) == event,
         "an event does not survive encode and decode", stored.data);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& events = cqrs::fuzz::catalog().events;
  const auto& [type, version] = events[data[0] % events.size()];
  cqrs::fuzz::read_event(type, version, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
