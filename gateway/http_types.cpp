#include "gateway/http_types.hpp"

namespace cqrs::gateway {

std::optional<std::string_view> http_request::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return std::string_view{value};
  }
  return std::nullopt;
}

std::optional<std::string_view> http_request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view{value};
  }
  return std::nullopt;
}

void http_response::set_header(std::string name, std::string value) {
  for (auto& [existing, old] : headers) {
    if (existing == name) {
      old = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view to_string(pool_kind kind) {
  switch (kind) {
    case pool_kind::postgres:
      return "postgres";
    case pool_kind::redis:
      return "redis";
  }
  return "unknown";
}

}  // namespace cqrs::gateway
