#include "gateway/product/product_command_routes.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "core/ids.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

namespace {

namespace json = boost::json;
using commands::product::product_outcome;
using detail::prepared_command;
using detail::preparation;

// ---- reading a JSON body strictly ----------------------------------------------------------

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "an unknown value";
}

// Reads the members of one JSON object. Each read records a missing member or a wrong type under
// its dotted name and returns a neutral value, so that reading goes on and the caller hears of
// every problem at once; reject_unread() then records the members no read asked for.
class json_fields {
 public:
  json_fields(const json::object& object, std::string prefix, std::vector<field_error>& errors)
      : object_(object), prefix_(std::move(prefix)), errors_(errors) {}

  std::string text(std::string_view name) {
    const auto* v = member(name, true);
    if (v == nullptr || !is_string(name, *v)) return {};
    return std::string(v->get_string());
  }

  // Absent and null both mean "not given".
  std::optional<std::string> optional_text(std::string_view name) {
    const auto* v = member(name, false);
    if (v == nullptr || v->is_null() || !is_string(name, *v)) return std::nullopt;
    return std::string(v->get_string());
  }

  std::int64_t integer(std::string_view name) {
    const auto* v = member(name, true);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->get_int64();
    fail(name, integer_complaint(*v));
    return 0;
  }

  schemas::money money(std::string_view name) {
    const auto* v = member(name, true);
    if (v == nullptr) return {};
    if (!v->is_object()) {
      fail(name, fmt::format("must be an object {{\"amount\", \"currency\"}}, not {}", kind_name(*v)));
      return {};
    }
    json_fields price(v->get_object(), path(name) + ".", errors_);
    schemas::money out{price.integer("amount"), schemas::currency_code(price.text("currency"))};
    price.reject_unread();
    return out;
  }

  void reject_unread() {
    for (const auto& m : object_) {
      if (std::find(read_.begin(), read_.end(), m.key()) != read_.end()) continue;
      fail(m.key(), read_.empty() ? std::string("is not expected: this request takes no fields")
                                  : fmt::format("is not a known field; expected {}", fmt::join(read_, ", ")));
    }
  }

 private:
  const json::value* member(std::string_view name, bool required) {
    read_.push_back(name);
    const auto* v = object_.if_contains(name);
    if (v == nullptr && required) fail(name, "is required");
    return v;
  }

  bool is_string(std::string_view name, const json::value& v) {
    if (v.is_string()) return true;
    fail(name, fmt::format("must be a string, not {}", kind_name(v)));
    return false;
  }

  // Boost.JSON keeps integers beyond int64 as uint64 and anything with a fraction, an exponent or
  // beyond uint64 as double: each of those is a distinct mistake worth its own message.
  static std::string integer_complaint(const json::value& v) {
    constexpr auto range = "must be an integer from -9223372036854775808 to 9223372036854775807";
    if (v.is_uint64()) return range;
    if (!v.is_double()) return fmt::format("must be an integer, not {}", kind_name(v));
    const double d = v.get_double();
    if (d != std::trunc(d)) return "must be a whole number, not a fraction";
    if (std::fabs(d) >= 9.2233720368547758e18) return range;
    return "must be written as an integer, without a decimal point or exponent";
  }

  std::string path(std::string_view name) const { return prefix_ + std::string(name); }
  void fail(std::string_view name, std::string message) { errors_.push_back({path(name), std::move(message)}); }

  const json::object& object_;
  std::string prefix_;
  std::vector<field_error>& errors_;
  std::vector<std::string_view> read_;
};

// ---- headers and identities -----------------------------------------------------------------

bool is_visible_ascii(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::array<unsigned char, 32> sha256_of(std::string_view purpose, std::string_view subject, std::string_view key) {
  // Length-prefixed, so that no (subject, key) pair can be shifted into another.
  const auto text = fmt::format("{}\n{}:{}\n{}", purpose, subject.size(), subject, key);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 || length != 32) {
    throw std::runtime_error("SHA-256 failed");
  }
  return digest;
}

// What every command route reads besides its body.
struct command_headers {
  std::optional<std::string> idempotency_key;  // as sent
  std::optional<core::stream_version> if_match;
  std::string correlation_id;
};

command_headers read_headers(const http_request& request, std::vector<field_error>& errors) {
  command_headers out;
  if (auto key = request.header("idempotency-key")) {
    if (detail::is_valid_idempotency_key(*key)) out.idempotency_key = std::string(*key);
    else errors.push_back({"Idempotency-Key", "must be 1 to 255 visible ASCII characters"});
  }
  if (auto match = request.header("if-match")) {
    out.if_match = detail::parse_if_match(*match);
    if (!out.if_match) errors.push_back({"If-Match", "must be a stream version as an ETag, e.g. \"3\""});
  }
  if (auto correlation = request.header("x-correlation-id")) {
    // The store keeps metadata of at most 200 bytes; refused here, the caller learns why.
    if (is_visible_ascii(*correlation, 200)) out.correlation_id = std::string(*correlation);
    else errors.push_back({"X-Correlation-Id", "must be 1 to 200 visible ASCII characters"});
  }
  return out;
}

std::string path_param(const request_context& ctx, const std::string& name) {
  const auto found = ctx.params.find(name);
  return found == ctx.params.end() ? std::string{} : found->second;
}

// The product id of the path, when "product-<id>" is a valid stream id of that category.
std::optional<core::stream_id> product_stream(std::string_view id) {
  // A '-' inside the id is allowed by stream_id: the category ends at the first one.
  auto parsed = core::stream_id::parse(fmt::format("product-{}", id));
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

// ---- preparing a command ----------------------------------------------------------------------

using command_builder = schemas::product_command (*)(json_fields& body, const request_context& ctx);

struct route_shape {
  bool has_body = true;
  bool creates = false;
  std::string_view quantity_field = "quantity";
  std::string_view reservation_field = "reservation_id";
};

// The body as an object, or the malformed_request answer. The router has checked that it parses;
// this is parsed again (cheap, bounded by the body limit) rather than passed through its types.
std::variant<json::object, http_response> body_object(const http_request& request) {
  boost::system::error_code failure;
  auto value = json::parse(request.body, failure);
  if (failure) return problem_response(errc::malformed_request, "the body is not valid JSON");
  if (!value.is_object()) return problem_response(errc::malformed_request, "the body must be a JSON object");
  return std::move(value.as_object());
}

std::string create_target_id(const request_context& ctx, const command_headers& headers) {
  if (!headers.idempotency_key) return core::event_id::generate().to_string();
  return detail::derived_product_id(ctx.caller->subject, *headers.idempotency_key);
}

commands::command_context context_for(const request_context& ctx, const command_headers& headers) {
  commands::command_context out;
  out.command_id = ctx.request_id;  // ties the events to the access log line
  out.correlation_id = headers.correlation_id;
  out.actor = ctx.caller->subject;
  if (headers.idempotency_key) out.idempotency_key = detail::scoped_idempotency_key(out.actor, *headers.idempotency_key);
  out.if_match = headers.if_match;
  return out;
}

preparation prepare(const request_context& ctx, const route_shape& shape, command_builder build) {
  if (!ctx.caller) return problem_response(errc::unauthorized, "a bearer token is required");
  std::vector<field_error> errors;
  const auto headers = read_headers(ctx.request, errors);
  std::string id = shape.creates ? create_target_id(ctx, headers) : path_param(ctx, "id");
  auto stream = product_stream(id);
  if (!stream) errors.push_back({"id", "must be 1 to 192 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-'"});
  std::variant<json::object, http_response> body = json::object{};
  if (shape.has_body) body = body_object(ctx.request);
  if (auto* refused = std::get_if<http_response>(&body)) return std::move(*refused);
  json_fields fields(std::get<json::object>(body), "", errors);
  auto command = build(fields, ctx);
  fields.reject_unread();
  if (!errors.empty()) {
    return problem_response(errc::validation_failed, "the request has invalid fields", std::move(errors));
  }
  return prepared_command{std::move(id), {std::move(*stream), std::move(command), context_for(ctx, headers)},
                          shape.creates, shape.quantity_field, shape.reservation_field};
}

schemas::reservation_id reservation_of_path(const request_context& ctx) {
  return schemas::reservation_id(path_param(ctx, "rid"));
}

// ---- answering --------------------------------------------------------------------------------

http_response json_response(int status, const json::object& body) {
  return {status, {{"Content-Type", "application/json"}}, json::serialize(body)};
}

std::string etag(core::stream_version version) { return fmt::format("\"{}\"", version.value()); }

http_response accepted_response(const commands::accepted& done, const prepared_command& command) {
  json::object body{{"id", command.product_id}, {"version", done.version.value()}, {"position", nullptr}};
  if (done.position) body["position"] = done.position->token();
  auto response = json_response(command.creates ? 201 : 200, body);
  response.set_header("ETag", etag(done.version));
  if (done.position) response.set_header("X-Position", done.position->token());
  if (done.replayed) response.set_header("Idempotent-Replayed", "true");
  if (command.creates) response.set_header("Location", fmt::format("/v1/products/{}", command.product_id));
  return response;
}

std::string_view field_for(commands::product::errc code, const prepared_command& command) {
  using commands::product::errc;
  if (code == errc::invalid_quantity) return command.quantity_field;
  if (code == errc::invalid_reservation_id) return command.reservation_field;
  return field_of(code);
}

http_response rejected_response(const commands::product::rejection& why, const prepared_command& command) {
  problem p{map_error(why.code), std::string(commands::product::to_string(why.code)), why.detail, {}, {}};
  if (const auto field = field_for(why.code, command); !field.empty()) p.errors.push_back({std::string(field), why.detail});
  return to_response(p);
}

http_response conflict_response(const commands::version_conflict& conflict, const prepared_command& command) {
  const auto code = commands::errc::version_conflict;
  const auto actual = conflict.actual.value();
  std::string detail = conflict.caller_expectation && command.envelope.context.if_match
                           ? fmt::format("If-Match expected version {} but the product is at version {}; re-read it",
                                         command.envelope.context.if_match->value(), actual)
                           : fmt::format("concurrent writers kept changing the product ({} attempts); it is at "
                                         "version {}; retry", conflict.attempts, actual);
  problem p{map_error(code, conflict.caller_expectation), std::string(commands::to_string(code)), std::move(detail), {}, {}};
  p.extra_headers.emplace_back("ETag", etag(conflict.actual));
  return to_response(p);
}

http_response key_reused_response() {
  const auto code = commands::errc::idempotency_key_reused;
  const std::string detail = "this Idempotency-Key was first used for a different command; use a new key";
  return to_response(problem{map_error(code), std::string(commands::to_string(code)), detail,
                             {{"Idempotency-Key", detail}}, {}});
}

http_response invalid_request_response(const commands::invalid_request& invalid) {
  const auto code = commands::errc::invalid_request;
  return to_response(problem{map_error(code), std::string(commands::to_string(code)), invalid.why.detail, {}, {}});
}

template <typename... F>
struct overloaded : F... {
  using F::operator()...;
};
template <typename... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

// ---- detail: the parts under test -----------------------------------------------------------

namespace detail {

std::optional<core::stream_version> parse_if_match(std::string_view value) {
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  // from_chars would take a '-'; a version is digits only.
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t version = 0;
  const auto [end, failure] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (failure != std::errc{} || end != value.data() + value.size()) return std::nullopt;
  return core::stream_version{version};
}

bool is_valid_idempotency_key(std::string_view key) { return is_visible_ascii(key, 255); }

std::string scoped_idempotency_key(std::string_view subject, std::string_view key) {
  const auto digest = sha256_of("cqrs.idempotency-key.v1", subject, key);
  std::string out;
  for (const auto byte : digest) out += fmt::format("{:02x}", byte);
  return out;
}

std::string derived_product_id(std::string_view subject, std::string_view key) {
  const auto digest = sha256_of("cqrs.product-id.v1", subject, key);
  core::event_id::bytes_type bytes{};
  std::copy_n(digest.begin(), bytes.size(), bytes.begin());
  // RFC 9562 version 8 ("custom") and the RFC variant, so the id reads as the UUID it looks like.
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return core::event_id::from_bytes(bytes).to_string();
}

preparation prepare_create(const request_context& ctx) {
  return prepare(ctx, {.creates = true, .quantity_field = "stock"}, [](json_fields& body, const request_context&) {
    schemas::create_product c;
    c.code = schemas::sku(body.text("sku"));
    c.name = body.text("name");
    c.description = body.text("description");
    c.price = body.money("price");
    c.initial_stock = body.integer("stock");
    return schemas::product_command{std::move(c)};
  });
}

preparation prepare_update_details(const request_context& ctx) {
  return prepare(ctx, {}, [](json_fields& body, const request_context&) {
    auto name = body.text("name");
    return schemas::product_command{schemas::update_product_details{std::move(name), body.text("description")}};
  });
}

preparation prepare_change_price(const request_context& ctx) {
  return prepare(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::change_product_price{body.money("price")}};
  });
}

preparation prepare_restock(const request_context& ctx) {
  return prepare(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::restock_product{schemas::quantity(body.integer("quantity"))}};
  });
}

preparation prepare_reserve(const request_context& ctx) {
  return prepare(ctx, {}, [](json_fields& body, const request_context&) {
    auto id = schemas::reservation_id(body.text("reservation_id"));
    return schemas::product_command{schemas::reserve_stock{std::move(id), schemas::quantity(body.integer("quantity"))}};
  });
}

preparation prepare_release(const request_context& ctx) {
  return prepare(ctx, {.has_body = false, .reservation_field = "rid"}, [](json_fields&, const request_context& c) {
    return schemas::product_command{schemas::release_reservation{reservation_of_path(c)}};
  });
}

preparation prepare_commit(const request_context& ctx) {
  return prepare(ctx, {.has_body = false, .reservation_field = "rid"}, [](json_fields&, const request_context& c) {
    return schemas::product_command{schemas::commit_reservation{reservation_of_path(c)}};
  });
}

preparation prepare_discontinue(const request_context& ctx) {
  return prepare(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::discontinue_product{body.optional_text("reason").value_or("")}};
  });
}

http_response answer(const product_outcome& outcome, const prepared_command& command) {
  return std::visit(
      overloaded{
          [&](const commands::accepted& done) { return accepted_response(done, command); },
          [&](const commands::rejected<commands::product::rejection>& r) {
            auto response = rejected_response(r.why, command);
            if (r.replayed) response.set_header("Idempotent-Replayed", "true");
            return response;
          },
          [&](const commands::version_conflict& conflict) { return conflict_response(conflict, command); },
          [](const commands::idempotency_key_reused&) { return key_reused_response(); },
          [](const commands::invalid_request& invalid) { return invalid_request_response(invalid); },
      },
      outcome);
}

std::optional<http_response> unavailable(core::failure_kind kind, bool has_key) {
  // No `default:`: a new kind must be judged here. Only outages are the client's to retry; a
  // failing statement or a library misuse is our bug.
  switch (kind) {
    case core::failure_kind::connection:
    case core::failure_kind::transient:
      return retry_later(errc::dependency_unavailable, "the event store is unavailable; retry", 1);
    case core::failure_kind::in_doubt:
      return retry_later(errc::dependency_unavailable,
                         has_key ? "the connection broke while committing, so the outcome is unknown; retry with the "
                                   "same Idempotency-Key to learn it"
                                 : "the connection broke while committing, so the outcome is unknown; read the "
                                   "product before retrying (an Idempotency-Key makes retries safe)",
                         1);
    case core::failure_kind::statement:
    case core::failure_kind::unexpected:
      return std::nullopt;
  }
  return std::nullopt;
}

step execute(worker_context& workers, const prepared_command& command) {
  try {
    return answer(workers.products().handle(command.envelope), command);
  } catch (const core::store_error& failure) {
    auto outage = unavailable(failure.kind(), command.envelope.context.idempotency_key.has_value());
    if (!outage) throw;  // the router's failed() logs it and answers 500
    // A lost or doubtful connection is not reused; the next command on this thread reconnects.
    if (failure.kind() != core::failure_kind::transient) workers.drop_connections();
    return std::move(*outage);
  }
}

namespace {

using product_cache = commands::product::product_pipeline::cache_type;

step run_on_pool(prepared_command command) {
  return offload{pool_kind::postgres,
                 [command = std::move(command)](worker_context& workers) { return execute(workers, command); },
                 std::chrono::milliseconds{0}};
}

// A failed append of the cached path, answered as execute() answers the same failure.
step failed_append(const std::exception_ptr& failure, const prepared_command& command) {
  try {
    std::rethrow_exception(failure);
  } catch (const core::store_error& e) {
    auto outage = unavailable(e.kind(), command.envelope.context.idempotency_key.has_value());
    if (!outage) throw;  // the server's failed() logs it and answers 500
    return std::move(*outage);
  }
}

// The committer's answer to a cached command's append, on the I/O thread.
step after_append(product_cache& cache, const prepared_command& command, commands::product::product_state& next,
                  core::committer_answer answer) {
  using kind = core::committer_answer::kind;
  using commands::product::product_pipeline;
  switch (answer.what) {
    case kind::written:
      return accepted_response(product_pipeline::accept_cached(cache, command.envelope, std::move(next), *answer.success),
                               command);
    case kind::not_written:
      // The stream moved past the cached version (or came twice in one group): decide again on
      // the stream as stored, on the pool, as the pipeline's own cached path does.
      product_pipeline::refused_cached(cache, command.envelope);
      return run_on_pool(command);
    case kind::refused:
      return run_on_pool(command);  // no room at the committer: the pool's bulkhead decides
    case kind::failed:
      return failed_append(answer.failure, command);
  }
  throw std::logic_error("unhandled committer answer");
}

}  // namespace

step first_step(const product_command_dependencies& deps, prepared_command command) {
  if (deps.cache == nullptr) return run_on_pool(std::move(command));
  auto plan = commands::product::product_pipeline::plan_cached(*deps.cache, deps.pipeline, command.envelope);
  if (!plan) return run_on_pool(std::move(command));
  // The request goes to the committer; only the state it leads to is kept for the answer.
  return append_call{std::move(plan->request),
                     [cache = deps.cache, command = std::move(command), next = std::move(plan->next)](
                         core::committer_answer answer) mutable -> step {
                       return after_append(*cache, command, next, std::move(answer));
                     }};
}

}  // namespace detail

// ---- registration -----------------------------------------------------------------------------

namespace {

route_handler handler_for(const product_command_dependencies& deps,
                          preparation (*prepare_command)(const request_context&)) {
  return [deps, prepare_command](request_context& ctx) -> step {
    auto prepared = prepare_command(ctx);
    if (auto* refused = std::get_if<http_response>(&prepared)) return std::move(*refused);
    return detail::first_step(deps, std::move(std::get<prepared_command>(prepared)));
  };
}

}  // namespace

void add_product_command_routes(router& r, const gateway_config& /*config*/, const product_command_dependencies& deps) {
  const auto add = [&](std::string method, std::string pattern, bool body,
                       preparation (*prepare_command)(const request_context&)) {
    r.add(route_spec{std::move(method), std::move(pattern), access::admin_only, handler_for(deps, prepare_command), body});
  };
  add("POST", "/v1/products", true, detail::prepare_create);
  add("PATCH", "/v1/products/{id}", true, detail::prepare_update_details);
  add("PUT", "/v1/products/{id}/price", true, detail::prepare_change_price);
  add("POST", "/v1/products/{id}/restock", true, detail::prepare_restock);
  add("POST", "/v1/products/{id}/reservations", true, detail::prepare_reserve);
  add("DELETE", "/v1/products/{id}/reservations/{rid}", false, detail::prepare_release);
  add("POST", "/v1/products/{id}/reservations/{rid}/commit", false, detail::prepare_commit);
  add("POST", "/v1/products/{id}/discontinue", true, detail::prepare_discontinue);
}

}  // namespace cqrs::gateway
