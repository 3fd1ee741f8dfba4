#pragma once

// The product routes as the e2e tests call them: bodies, tokens and the answers' parts.

#include <cstdint>
#include <optional>
#include <string>

#include "tests/e2e_gateway/engine_processes.hpp"
#include "tests/e2e_gateway/http_client.hpp"

namespace cqrs::tests {

// A SKU (and name word) no other run or test uses: "<TAG>-<run id>-<n>".
std::string unique_sku(const std::string& tag);

std::string create_body(const std::string& sku, std::int64_t stock, std::int64_t price = 1999,
                        const std::string& name = "Test product");

struct command_result {
  std::string id;
  std::int64_t version = 0;
  std::string position;
};

// {id, version, position} of a command's answer; throws when the body lacks them.
command_result result_of(const http_answer& answer);

// The problem's `code`, "" when the answer is not problem+json.
std::string problem_code(const http_answer& answer);
// Whether the problem's `errors` name `field`.
bool names_field(const http_answer& answer, const std::string& field);

class product_api {
 public:
  explicit product_api(engine_processes& engine) : engine_(engine), http_(engine.http()) {}

  http_answer create(const std::string& sku, std::int64_t stock, http_headers extra = {}) const;
  // Creates a product and REQUIREs 201.
  command_result created(const std::string& tag, std::int64_t stock = 10) const;

  // A command with an admin token, plus `extra` headers.
  http_answer command(const std::string& method, const std::string& target, std::optional<std::string> body,
                      http_headers extra = {}) const;
  http_answer restock(const std::string& id, std::int64_t quantity, http_headers extra = {}) const;
  http_answer reserve(const std::string& id, const std::string& reservation, std::int64_t quantity,
                      http_headers extra = {}) const;

  http_answer read(const std::string& id, const std::string& query = "") const;
  // The version folded from the event store (GET ?consistency=strong).
  std::int64_t strong_version(const std::string& id) const;
  // The events stored in product-<id> (GET /v1/streams/product-<id>/events, admin).
  std::size_t stored_events(const std::string& id) const;

 private:
  engine_processes& engine_;
  const http_client& http_;
};

}  // namespace cqrs::tests
