// The contracts catalog: one list of domains, walked the same way for listing contracts,
// registering upcasters and printing stored events.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <variant>

#include <boost/json/parse.hpp>

#include "core/upcasting.hpp"
#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_events_history.hpp"
#include "schemas/contracts/user/user_codec.hpp"

namespace s = cqrs::schemas;

TEST_CASE("the catalog lists the product and user domains and every event contract under its domain") {
  const auto& domains = s::contract_domains();
  REQUIRE(domains.size() == 4);
  CHECK(domains[0].name == "product");
  CHECK(domains[1].name == "user");
  CHECK(domains[2].name == "order");
  CHECK(domains[3].name == "payment");

  const auto contracts = s::event_contracts();
  CHECK(contracts.size() == std::variant_size_v<s::product_event> + std::variant_size_v<s::user_event> +
                                std::variant_size_v<s::order_event> + std::variant_size_v<s::payment_event>);
  CHECK(std::ranges::count(contracts, std::string("product"), &s::contract_info::domain) ==
        std::variant_size_v<s::product_event>);
  for (const char* name : {"product.created", "product.details_updated", "product.price_changed", "product.restocked",
                           "product.stock_reserved", "product.reservation_released", "product.reservation_committed",
                           "product.discontinued"}) {
    CAPTURE(name);
    CHECK(std::ranges::count(contracts, std::string(name), &s::contract_info::name) == 1);
  }
  for (const char* name : {"user.registered", "user.profile_updated", "user.email_changed", "user.password_changed",
                           "user.role_granted", "user.role_revoked", "user.deactivated", "user.reactivated",
                           "user.forgotten"}) {
    CAPTURE(name);
    const auto found = std::ranges::find(contracts, std::string(name), &s::contract_info::name);
    REQUIRE(found != contracts.end());
    CHECK(found->domain == "user");
    CHECK(found->readable_versions == std::vector<int>{1});
  }
}

TEST_CASE("each domain's descriptor answers for its own events only") {
  const auto& product = s::contract_domains().front();
  CHECK(product.knows_event("product.created", 1));
  CHECK(product.knows_event("product.created", 2));
  CHECK_FALSE(product.knows_event("product.created", 3));
  CHECK_FALSE(product.knows_event("order.placed", 1));
  CHECK_FALSE(product.knows_event("payment.requested", 1));
  CHECK(product.event_versions() == s::product_event_versions());
  const auto& user = s::contract_domains()[1];
  CHECK(user.knows_event("user.registered", 1));
  CHECK_FALSE(user.knows_event("product.created", 2));
  CHECK_FALSE(product.knows_event("user.registered", 1));
  const auto& order = s::contract_domains()[2];
  CHECK(order.knows_event("order.placed", 1));
  CHECK_FALSE(order.knows_event("payment.requested", 1));
  CHECK(order.event_versions() == s::order_event_versions());
  const auto& payment = s::contract_domains()[3];
  CHECK(payment.knows_event("payment.refunded", 1));
  CHECK_FALSE(payment.knows_event("order.refunded", 1));
  CHECK(payment.event_versions() == s::payment_event_versions());
}

TEST_CASE("the catalog registers every domain's upcasters with the store's registry") {
  cqrs::core::upcaster_registry registry;
  s::register_upcasters(registry);
  const auto v1 = s::encode_one(s::product_created_v1{s::sku("OLD-1"), "Old", 700, 1});
  auto payload = v1.data;
  CHECK(registry.upcast(v1.type, v1.schema_version, payload) == 2);
  CHECK(boost::json::parse(payload).at("price") == boost::json::parse(R"({"amount_minor":700,"currency":"EUR"})"));
}

TEST_CASE("a stored event of no domain is a contract error") {
  CHECK_THROWS_AS(s::stored_event_to_json("invoice.issued", 1, "{}"), s::contract_error);
  CHECK_THROWS_AS(s::stored_event_to_json("product.created", 9, "{}"), s::contract_error);
}
