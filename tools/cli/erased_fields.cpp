#include "tools/cli/erased_fields.hpp"

#include <variant>

#include "core/security/pii_vault.hpp"
#include "core/security/security_config.hpp"

namespace cqrs::tools::cli {

namespace {

constexpr std::string_view sealed_prefix = "pii1.";
constexpr std::size_t max_known = 100'000;

}  // namespace

std::vector<core::setting_spec> erased_fields::settings() {
  return {{"CQRS_PII_KEYSTORE_URL", "",
           "the key store: personal fields of forgotten users show as [erased] (none: shown as stored)"}};
}

erased_fields::erased_fields(const core::settings_source& source)
    : keystore_url_(source.text("CQRS_PII_KEYSTORE_URL", "")) {}

bool erased_fields::erased(const core::stream_id& stream, std::string_view text) {
  if (keystore_url_.empty() || text.find(sealed_prefix) == std::string_view::npos) return false;
  if (!keys_) {
    // Opened at the first sealed field: a history without personal data never needs the key store.
    core::security::pii_config config;
    config.keystore_url = keystore_url_;
    keys_ = core::security::open_key_store(config);
  }
  const auto& name = stream.str();
  auto subject = name.substr(name.find('-') + 1);
  if (const auto found = known_.find(subject); found != known_.end()) return found->second;
  const auto stored = keys_->load(subject);
  const bool destroyed = stored && std::holds_alternative<core::security::key_destroyed>(*stored);
  if (known_.size() >= max_known) known_.clear();
  known_.emplace(std::move(subject), destroyed);
  return destroyed;
}

std::size_t erased_fields::redact(boost::json::value& json) {
  if (json.is_string()) {
    if (!std::string_view(json.get_string()).starts_with(sealed_prefix)) return 0;
    json = std::string(core::security::erased_marker);
    return 1;
  }
  std::size_t replaced = 0;
  if (json.is_object()) {
    for (auto& member : json.get_object()) replaced += redact(member.value());
  } else if (json.is_array()) {
    for (auto& element : json.get_array()) replaced += redact(element);
  }
  return replaced;
}

}  // namespace cqrs::tools::cli
