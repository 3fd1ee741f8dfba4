// The Product and pipeline error codes are a protocol: values and names must never change.

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "commands/command_outcome.hpp"
#include "commands/product/product_errc.hpp"

namespace p = cqrs::commands::product;
namespace c = cqrs::commands;

TEST_CASE("every product errc value has its own stable name") {
  std::set<std::string> names;
  for (int value = 1; value <= static_cast<int>(p::errc::invalid_reason); ++value) {
    const std::string name(p::to_string(static_cast<p::errc>(value)));
    CAPTURE(value);
    CHECK(name.rfind("product.", 0) == 0);
    CHECK(names.insert(name).second);
  }
}

TEST_CASE("product errc values and names are pinned") {
  CHECK(static_cast<int>(p::errc::product_already_exists) == 1);
  CHECK(static_cast<int>(p::errc::sku_already_taken) == 5);
  CHECK(static_cast<int>(p::errc::insufficient_stock) == 12);
  CHECK(static_cast<int>(p::errc::invalid_reason) == 17);
  CHECK(p::to_string(p::errc::insufficient_stock) == "product.insufficient_stock");
  CHECK(p::to_string(p::errc::sku_already_taken) == "product.sku_already_taken");
  CHECK(p::to_string(p::errc::product_discontinued) == "product.discontinued");
}

TEST_CASE("a value outside the product errc enum has no name") {
  CHECK_THROWS_AS(p::to_string(static_cast<p::errc>(999)), std::invalid_argument);
}

TEST_CASE("pipeline errc values and names are pinned") {
  CHECK(static_cast<int>(c::errc::version_conflict) == 1);
  CHECK(static_cast<int>(c::errc::idempotency_key_reused) == 2);
  CHECK(static_cast<int>(c::errc::invalid_request) == 3);
  CHECK(c::to_string(c::errc::version_conflict) == "command.version_conflict");
  CHECK(c::to_string(c::errc::idempotency_key_reused) == "command.idempotency_key_reused");
  CHECK(c::to_string(c::errc::invalid_request) == "command.invalid_request");
  CHECK(c::pipeline_code(c::version_conflict{}) == c::errc::version_conflict);
}
