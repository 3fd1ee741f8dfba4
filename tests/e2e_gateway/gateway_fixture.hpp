#pragma once

#include <string>

#include "tests/e2e_gateway/engine_processes.hpp"
#include "tests/e2e_gateway/product_api.hpp"

namespace cqrs::tests {

// What every gateway e2e test case starts from: the shared engine processes and the product API.
struct gateway_fixture {
  engine_processes& engine = engine_processes::shared();
  const http_client& http = engine.http();
  product_api api{engine};
};

// An ETag's version: `"3"` and `W/"3"` -> "3".
inline std::string etag_version(std::string tag) {
  if (tag.rfind("W/", 0) == 0) tag.erase(0, 2);
  if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
  return tag;
}

}  // namespace cqrs::tests
