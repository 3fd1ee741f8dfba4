#pragma once

// Product contracts as Boost.JSON values (`boost::json::value_from(event)`), field names as
// stored. This is the human-facing shape: logs, the replay tool, HTTP answers.

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "schemas/contracts/product/product_commands.hpp"
#include "schemas/contracts/product/product_events.hpp"
#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::schemas {

template <typename T, typename Tag>
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const strong_value<T, Tag>& v) {
  out = boost::json::value_from(v.value());
}

void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const money& m);

void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const product_created& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const product_details_updated& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const product_price_changed& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const product_restocked& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const stock_reserved& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const reservation_released& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const reservation_committed& e);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const product_discontinued& e);

void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const create_product& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const update_product_details& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const change_product_price& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const restock_product& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const reserve_stock& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const release_reservation& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const commit_reservation& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const discontinue_product& c);

// {"type": "...", "schema_version": N, "data": {...}}: a contract with its identity.
boost::json::object to_json(const product_event& event);
boost::json::object to_json(const product_command& command);

}  // namespace cqrs::schemas
