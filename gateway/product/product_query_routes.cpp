#include "gateway/product/product_query_routes.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/ids.hpp"
#include "core/log_position.hpp"
#include "commands/product/product_pipeline.hpp"
#include "gateway/command_support.hpp"
#include "gateway/consistency.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/jwt.hpp"
#include "gateway/problem.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/redis_async.hpp"
#include "gateway/request_target.hpp"
#include "gateway/product/redis_product_reads.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/product/product_reads.hpp"
#include "projections/read_your_writes.hpp"

namespace cqrs::gateway {

namespace {

namespace json = boost::json;

constexpr const char* detail_projection = "product_detail";
constexpr const char* catalog_projection = "product_catalog";

// ---- answers -----------------------------------------------------------------------------------

// Every read path renders the product as the catalog model holds it (catalog_product), whatever
// model it came from.
using product_view = projections::catalog_product;

json::object money_json(std::int64_t amount, const std::string& currency) {
  return {{"amount", amount}, {"currency", currency}};
}

http_response product_response(const product_view& p) {
  const json::object body{{"id", p.product_id},
                          {"sku", p.sku},
                          {"name", p.name},
                          {"description", p.description},
                          {"price", money_json(p.price_minor, p.currency)},
                          {"stock_available", p.on_hand - p.reserved},
                          {"stock_reserved", p.reserved},
                          {"discontinued", p.discontinued},
                          {"version", p.version}};
  auto response = json_response(200, body);
  response.set_header("ETag", fmt::format("\"{}\"", p.version));
  return response;
}

http_response not_found(const std::string& id) {
  return problem_response(errc::resource_not_found, fmt::format("no product has the id {}", id));
}

http_response invalid(std::vector<field_error> errors) {
  return problem_response(errc::validation_failed, "the request has invalid parameters", std::move(errors));
}

// ---- read models --------------------------------------------------------------------------------

std::optional<std::int64_t> to_int64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (failure != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The Redis hash as a product; nothing when a field is missing or not a number (a model written
// by other code): the PostgreSQL model answers instead.
std::optional<product_view> from_redis(const projections::product_fields& f) {
  const auto text = [&](const char* name) -> const std::string* {
    const auto found = f.find(name);
    return found == f.end() ? nullptr : &found->second;
  };
  const auto number = [&](const char* name) { return text(name) ? to_int64(*text(name)) : std::nullopt; };
  const auto price = number("price_minor");
  const auto on_hand = number("on_hand");
  const auto reserved = number("reserved");
  const auto version = number("version");
  if (!text("id") || !text("sku") || !text("name") || !text("currency") || !price || !on_hand || !reserved || !version) {
    return std::nullopt;
  }
  const auto* description = text("description");
  const auto* discontinued = text("discontinued");
  return product_view{*text("id"), *text("sku"), *text("name"), description ? *description : std::string{},
                      *price, *text("currency"), *on_hand, *reserved,
                      discontinued != nullptr && *discontinued == "1", *version};
}


product_view from_state(const std::string& id, const commands::product::product_state& s, std::int64_t version) {
  return {id, s.code.value(), s.name, s.description, s.price.amount_minor, s.price.currency.value(),
          s.on_hand, s.reserved, s.discontinued, version};
}

// ---- GET /v1/products/{id} ----------------------------------------------------------------------------

// A read of one product; under min_position, with the version of its stream at the position
// (resolved before the first read), which the model read must have applied.
struct product_read {
  std::string id;
  std::optional<stream_wait> wait;
  const read_model_lag* lag = nullptr;  // outlives the router
};

// An answer from a read model carries its staleness (read_model_lag.hpp).
http_response from_model(http_response response, const read_model_lag* lag, std::string_view projection) {
  if (lag != nullptr) lag->mark(response, projection);
  return response;
}

step read_catalog_step(const product_read& read) {
  return offload{pool_kind::postgres,
                 [read](worker_context& workers) -> step {
                   const auto row = read_only(workers, [&](pqxx::transaction_base& tx) {
                     return projections::read_catalog_product(tx, read.id, catalog_projection);
                   });
                   return row ? from_model(product_response(*row), read.lag, catalog_projection) : not_found(read.id);
                 },
                 std::chrono::milliseconds{0}};
}

// The PostgreSQL model answers when Redis misses (not projected there yet, or flushed) or is down;
// under min_position once it has applied the product's stream through the wait's version.
step fall_back(const product_read& read) {
  if (!read.wait) return read_catalog_step(read);
  return after_stream_version(*read.wait, catalog_projection, [read] { return read_catalog_step(read); });
}

redis_call read_redis_step(const product_read& read, const product_detail_reads& reads);

// A Redis hit answers when it is recent enough: the hash carries the stream version it was
// written at, which is the model's applied version of the stream (every product event sets it),
// so the min_position check is folded into the read. A hit behind the wait's version is read
// again after the poll delay, until the deadline; a miss goes to PostgreSQL (whose own check
// then applies).
step answer_hit(const product_read& read, const product_detail_reads& reads, const product_view& view) {
  if (!read.wait || view.version >= read.wait->version) {
    return from_model(product_response(view), read.lag, detail_projection);
  }
  return look_again(read.wait->wait, read_redis_step(read, reads));
}

// On the I/O thread: a hit answers there and then; a miss or a failed Redis goes to PostgreSQL.
// The pointer and the hash come back together; when the pointer names another model than the one
// read (a rebuild switched it), the product is read once more in that model, and if the pointer
// moved yet again meanwhile, PostgreSQL answers.
redis_call read_redis_in(const product_read& read, const product_detail_reads& reads, std::string model,
                         bool last_try) {
  auto commands = reads.pipelined(model, read.id);
  return redis_call{nullptr, {}, {},
                    [read, &reads, model = std::move(model), last_try](redis_result result) -> step {
                      if (!result.ok()) return fall_back(read);
                      auto answer = reads.decode_pipelined(model, *result.reply);
                      if (answer.refused) return fall_back(read);
                      if (answer.live_model) {
                        if (last_try) return fall_back(read);
                        return read_redis_in(read, reads, std::move(*answer.live_model), true);
                      }
                      if (answer.fields) {
                        if (auto view = from_redis(*answer.fields)) return answer_hit(read, reads, *view);
                      }
                      return fall_back(read);
                    },
                    std::move(commands)};
}

redis_call read_redis_step(const product_read& read, const product_detail_reads& reads) {
  return read_redis_in(read, reads, reads.model_guess(), false);
}

// consistency=strong: folded from the event store, so every acknowledged command is in it.
step read_strong_step(std::string id, core::stream_id stream) {
  return read_strong<commands::product::product_aggregate>(
      std::move(stream),
      [id](const commands::product::product_state& state, std::int64_t version) {
        return product_response(from_state(id, state, version));
      },
      [id] { return not_found(id); });
}

step get_product(request_context& ctx, const gateway_config& config, const product_detail_reads& reads,
                 const read_model_lag* lag) {
  std::vector<field_error> errors;
  const auto id = ctx.params.at("id");
  auto stream = stream_of(commands::product::product_aggregate::category, id);
  if (!stream) errors.push_back({"id", std::string(invalid_id_message)});
  const bool strong = wants_strong(ctx.request, errors);
  auto wait = read_min_position(ctx.request, config, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  if (strong) return read_strong_step(id, std::move(*stream));
  if (!wait) return read_redis_step(product_read{id, std::nullopt, lag}, reads);
  // One stream is read: only its own progress counts, whatever the rest of the log does.
  return at_stream_version(*wait, std::move(*stream), [id, reads = &reads, lag](stream_wait resolved) {
    return read_redis_step(product_read{id, std::move(resolved), lag}, *reads);
  });
}

// ---- GET /v1/products --------------------------------------------------------------------------------

constexpr int default_page = 20;
constexpr int max_page = 100;
constexpr std::size_t max_query_text = 200;

std::optional<bool> to_bool(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

std::optional<std::int64_t> non_negative(const http_request& request, const char* name,
                                         std::vector<field_error>& errors) {
  const auto text = request.query_param(name);
  if (!text) return std::nullopt;
  const auto value = to_int64(*text);
  if (!value || *value < 0) errors.push_back({name, "must be an integer of at least 0 (minor units)"});
  return value;
}

bool flag(const http_request& request, const char* name, std::vector<field_error>& errors) {
  const auto text = request.query_param(name);
  if (!text) return false;
  const auto value = to_bool(*text);
  if (!value) errors.push_back({name, "must be true or false"});
  return value.value_or(false);
}

int page_size(const http_request& request, std::vector<field_error>& errors) {
  const auto text = request.query_param("limit");
  if (!text) return default_page;
  const auto value = to_int64(*text);
  if (!value || *value < 1 || *value > max_page) {
    errors.push_back({"limit", fmt::format("must be an integer from 1 to {}", max_page)});
    return default_page;
  }
  return static_cast<int>(*value);
}

// The cursor is the last id of the previous page, base64url: opaque to clients, so the paging
// key can change without breaking them.
std::optional<std::string> after_id(const http_request& request, std::vector<field_error>& errors) {
  const auto text = request.query_param("cursor");
  if (!text) return std::nullopt;
  auto id = detail::base64url_decode(*text);
  // Ids are text: bytes that are not (an encoded NUL, or not UTF-8) were never a cursor of ours.
  if (!id || id->empty() || !is_valid_utf8(*id) || id->find('\0') != std::string::npos) {
    errors.push_back({"cursor", "must be a next_cursor this API returned"});
  }
  return id;
}

json::object catalog_item(const projections::catalog_entry& e) {
  return {{"id", e.product_id},           {"sku", e.sku},
          {"name", e.name},               {"price", money_json(e.price_minor, e.currency)},
          {"stock_available", e.available}, {"discontinued", e.discontinued}};
}

http_response catalog_page(std::vector<projections::catalog_entry> entries, int limit) {
  // One row more than the page was read: its presence says whether a next page exists.
  const bool more = entries.size() > static_cast<std::size_t>(limit);
  if (more) entries.resize(static_cast<std::size_t>(limit));
  json::array items;
  for (const auto& e : entries) items.push_back(catalog_item(e));
  json::value next = nullptr;
  if (more) next = detail::base64url_encode(entries.back().product_id);
  return json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
}

step search_step(projections::catalog_query query, const read_model_lag* lag) {
  return offload{pool_kind::postgres,
                 [query, lag](worker_context& workers) -> step {
                   auto page = query;
                   page.limit = query.limit + 1;
                   auto entries = read_only(workers, [&](pqxx::transaction_base& tx) {
                     return projections::query_catalog(tx, page);
                   });
                   return from_model(catalog_page(std::move(entries), query.limit), lag, catalog_projection);
                 },
                 std::chrono::milliseconds{0}};
}

step search_products(request_context& ctx, const gateway_config& config, const read_model_lag* lag) {
  std::vector<field_error> errors;
  auto query = detail::catalog_query_of(ctx.request, errors);
  const auto wait = read_min_position(ctx.request, config, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return after_position(wait, catalog_projection,
                        [query = std::move(query), lag] { return search_step(query, lag); });
}

}  // namespace

namespace detail {

projections::catalog_query catalog_query_of(const http_request& request, std::vector<field_error>& errors) {
  projections::catalog_query q;
  if (const auto text = request.query_param("q"); text && !text->empty()) {
    if (text->size() > max_query_text) errors.push_back({"q", "must be at most 200 characters"});
    q.text = std::string(*text);
  }
  q.min_price_minor = non_negative(request, "min_price", errors);
  q.max_price_minor = non_negative(request, "max_price", errors);
  q.in_stock_only = flag(request, "in_stock", errors);
  q.include_discontinued = flag(request, "include_discontinued", errors);
  q.limit = page_size(request, errors);
  q.after_product_id = after_id(request, errors);
  q.projection = catalog_projection;
  return q;
}

}  // namespace detail

namespace {

void add_routes(router& r, const gateway_config& config, std::shared_ptr<const product_detail_reads> reads,
                const read_model_lag* lag) {
  // The configuration outlives the router (main builds both), so handlers may keep a pointer.
  const auto* settings = &config;
  r.add(route_spec{"GET", "/v1/products/{id}", access_policy::anyone(),
                   [settings, reads, lag](request_context& ctx) { return get_product(ctx, *settings, *reads, lag); },
                   false});
  r.add(route_spec{"GET", "/v1/products", access_policy::anyone(),
                   [settings, lag](request_context& ctx) { return search_products(ctx, *settings, lag); }, false});
}

}  // namespace

void add_product_query_routes(router& r, const gateway_config& config, const product_detail_reads& reads,
                              const read_model_lag* lag) {
  // Not owned: the caller keeps `reads` alive for as long as the router.
  add_routes(r, config, std::shared_ptr<const product_detail_reads>(std::shared_ptr<void>{}, &reads), lag);
}

void add_product_query_routes(router& r, const gateway_config& config, const read_model_lag* lag) {
  add_routes(r, config, std::make_shared<const product_detail_reads>(detail_projection), lag);
}

}  // namespace cqrs::gateway
