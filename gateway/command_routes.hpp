#pragma once

// Command routes for any aggregate: a template over a domain's binding (below) that carries what
// every command route needs, so a domain's route file keeps only its command preparation (body
// fields → command) and its route table.
//
// A request is parsed and validated on the I/O thread. Then either the cached path: with a
// command cache, a command the cached state accepts at once (commands::command_pipeline::
// plan_cached) is decided on the I/O thread and its append handed to the server's committer (an
// append_call), without a pool thread; or the whole pipeline runs on the PostgreSQL pool. The
// answer is {id, version, position} with ETag and X-Position (201 with Location for a create), or
// a problem: 400 naming every bad field, header and path parameter at once (read strictly, see
// json_fields.hpp), the aggregate's rejection through the domain's error mapping, 409/412 for a
// version conflict, 422 for a reused Idempotency-Key, 503 with Retry-After when PostgreSQL is
// down or a commit is in doubt. Headers and ids: command_support.hpp.
//
// A domain's binding B is a type with static members only:
//
//   struct product_binding {
//     using aggregate = commands::product::product_aggregate;  // a commands::stored_aggregate
//     static constexpr std::string_view noun = "product";          // in messages
//     static constexpr std::string_view collection = "/v1/products";  // Location: <collection>/<id>
//     static constexpr std::string_view id_purpose = "cqrs.product-id.v1";  // derived create ids
//     // The aggregate's rejection codes: HTTP mapping, stable name, the request field (or "").
//     static error_mapping map_error(errc); static std::string_view code_name(errc);
//     static std::string_view field_of(errc);
//   };
//
// The aggregate's rejection_type is {code, detail}.

#include <concepts>
#include <exception>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "commands/command_pipeline.hpp"
#include "gateway/command_caches.hpp"
#include "gateway/command_support.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/problem.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

template <typename B>
concept command_binding =
    commands::stored_aggregate<typename B::aggregate> &&
    requires(const typename B::aggregate::rejection_type& why) {
      { B::noun } -> std::convertible_to<std::string_view>;
      { B::collection } -> std::convertible_to<std::string_view>;
      { B::id_purpose } -> std::convertible_to<std::string_view>;
      { why.detail } -> std::convertible_to<std::string>;
      { B::map_error(why.code) } -> std::same_as<error_mapping>;
      { B::code_name(why.code) } -> std::convertible_to<std::string_view>;
      { B::field_of(why.code) } -> std::convertible_to<std::string_view>;
    };

// The request field an aggregate's field is called on one route (a create's "quantity" is its
// "stock"; a path parameter "rid" carries a "reservation_id").
struct field_alias {
  std::string_view field;     // as the domain's field_of names it
  std::string_view on_route;  // as this route's request names it
};

// How a route's request is shaped.
struct command_shape {
  bool has_body = true;
  bool creates = false;  // the id is made (derived from the Idempotency-Key, or random), not read from {id}
  std::vector<field_alias> aliases;
};

// A request ready to run: the envelope, and what the answer needs to know about the route.
template <command_binding B>
struct prepared {
  using envelope_type = commands::command_envelope<typename B::aggregate::command_type>;
  std::string id;  // the id part of the stream: "<category>-<id>"
  envelope_type envelope;
  bool creates = false;  // 201 with Location instead of 200
  std::vector<field_alias> aliases;
};

// A command, or the response refusing the request (400, or 401 without a caller).
template <command_binding B>
using preparation_for = std::variant<prepared<B>, http_response>;

// What the command path needs: the aggregate's shared cache (null: every command goes to the
// pool) and the pipeline's options (for plan_cached).
template <command_binding B>
struct command_dependencies {
  typename command_caches::template cache_for<typename B::aggregate>* cache = nullptr;
  commands::pipeline_options pipeline;
};

// One row of a domain's route table.
template <command_binding B>
struct command_route {
  std::string method;
  std::string pattern;
  access_policy who;
  bool takes_json_body = true;
  preparation_for<B> (*prepare)(const request_context&);
};

// Reads the request: headers, the id ({id}, or made for a create), the body's fields through
// `build(json_fields&, const request_context&)`, which returns the command. Every problem is
// reported at once.
template <command_binding B, typename Build>
preparation_for<B> prepare_command(const request_context& ctx, const command_shape& shape, Build&& build) {
  if (!ctx.caller) return problem_response(errc::unauthorized, "a bearer token is required");
  std::vector<field_error> errors;
  const auto headers = read_command_headers(ctx.request, errors);
  std::string id = shape.creates ? create_target_id(ctx, headers, B::id_purpose) : path_param(ctx, "id");
  auto stream = stream_of(B::aggregate::category, id);
  if (!stream) errors.push_back({"id", std::string(invalid_id_message)});
  std::variant<boost::json::object, http_response> body = boost::json::object{};
  if (shape.has_body) body = body_object(ctx.request);
  if (auto* refused = std::get_if<http_response>(&body)) return std::move(*refused);
  json_fields fields(std::get<boost::json::object>(body), "", errors);
  auto command = build(fields, ctx);
  fields.reject_unread();
  if (!errors.empty()) {
    return problem_response(errc::validation_failed, "the request has invalid fields", std::move(errors));
  }
  return prepared<B>{std::move(id),
                             {std::move(*stream), std::move(command), command_context_for(ctx, headers)},
                             shape.creates,
                             shape.aliases};
}

namespace detail {

template <command_binding B>
std::string_view route_field(const prepared<B>& command, std::string_view field) {
  for (const auto& alias : command.aliases) {
    if (alias.field == field) return alias.on_route;
  }
  return field;
}

template <command_binding B>
http_response rejected_response(const typename B::aggregate::rejection_type& why, const prepared<B>& command) {
  problem p{B::map_error(why.code), std::string(B::code_name(why.code)), why.detail, {}, {}};
  if (const auto field = route_field(command, B::field_of(why.code)); !field.empty()) {
    p.errors.push_back({std::string(field), why.detail});
  }
  return to_response(p);
}

template <typename... F>
struct overloaded : F... {
  using F::operator()...;
};
template <typename... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace detail

// The answer to a command's outcome.
template <command_binding B>
http_response answer(const commands::command_outcome<typename B::aggregate::rejection_type>& outcome,
                     const prepared<B>& command) {
  using rejection = typename B::aggregate::rejection_type;
  return std::visit(
      detail::overloaded{
          [&](const commands::accepted& done) {
            return accepted_response(done, command.id, command.creates, B::collection);
          },
          [&](const commands::rejected<rejection>& r) {
            auto response = detail::rejected_response<B>(r.why, command);
            if (r.replayed) response.set_header("Idempotent-Replayed", "true");
            return response;
          },
          [&](const commands::version_conflict& conflict) {
            return conflict_response(conflict, command.envelope.context, B::noun);
          },
          [](const commands::idempotency_key_reused&) { return key_reused_response(); },
          [](const commands::invalid_request& invalid) { return invalid_request_response(invalid); },
      },
      outcome);
}

// The offload's work: runs the command on this thread's pipeline and answers. PostgreSQL down
// (or a commit in doubt) answers 503 with Retry-After; a failing statement is a bug and is
// rethrown, for the router's failed() to log and answer 500. `then(outcome, answer)` turns the
// outcome and its answer into the step (execute() below answers as is).
template <command_binding B, typename Then>
step execute_then(worker_context& workers, const prepared<B>& command, Then&& then) {
  try {
    const auto outcome = workers.pipeline<typename B::aggregate>().handle(command.envelope);
    return then(outcome, answer<B>(outcome, command));
  } catch (const core::store_error& failure) {
    auto outage = detail::unavailable(failure.kind(), command.envelope.context.idempotency_key.has_value(), B::noun);
    if (!outage) throw;  // the router's failed() logs it and answers 500
    // A lost or doubtful connection is not reused; the next command on this thread reconnects.
    if (failure.kind() != core::failure_kind::transient) workers.drop_connections();
    return std::move(*outage);
  }
}

template <command_binding B>
step execute(worker_context& workers, const prepared<B>& command) {
  return execute_then<B>(workers, command, [](const auto&, http_response response) -> step { return response; });
}

namespace detail {

template <command_binding B>
step run_on_pool(prepared<B> command) {
  return offload{pool_kind::postgres,
                 [command = std::move(command)](worker_context& workers) { return execute<B>(workers, command); },
                 std::chrono::milliseconds{0}};
}

// A failed append of the cached path, answered as execute() answers the same failure.
template <command_binding B>
step failed_append(const std::exception_ptr& failure, const prepared<B>& command) {
  try {
    std::rethrow_exception(failure);
  } catch (const core::store_error& e) {
    auto outage = unavailable(e.kind(), command.envelope.context.idempotency_key.has_value(), B::noun);
    if (!outage) throw;  // the server's failed() logs it and answers 500
    return std::move(*outage);
  }
}

// The committer's answer to a cached command's append, on the I/O thread.
template <command_binding B>
step after_append(typename command_caches::template cache_for<typename B::aggregate>& cache,
                  const prepared<B>& command, typename B::aggregate::state_type& next,
                  core::committer_answer answer) {
  using kind = core::committer_answer::kind;
  using pipeline = commands::command_pipeline<typename B::aggregate>;
  switch (answer.what) {
    case kind::written:
      return accepted_response(pipeline::accept_cached(cache, command.envelope, std::move(next), *answer.success),
                               command.id, command.creates, B::collection);
    case kind::not_written:
      // The stream moved past the cached version (or came twice in one group): decide again on
      // the stream as stored, on the pool, as the pipeline's own cached path does.
      pipeline::refused_cached(cache, command.envelope);
      return run_on_pool<B>(command);
    case kind::refused:
      return run_on_pool<B>(command);  // no room at the committer: the pool's bulkhead decides
    case kind::failed:
      return failed_append<B>(answer.failure, command);
  }
  throw std::logic_error("unhandled committer answer");
}

}  // namespace detail

// The first step of a prepared command: the cached path's append_call when `deps` has a cache and
// the cached state accepts the command at once, else an offload that runs execute() on the
// PostgreSQL pool.
template <command_binding B>
step first_step(const command_dependencies<B>& deps, prepared<B> command) {
  using pipeline = commands::command_pipeline<typename B::aggregate>;
  if (deps.cache == nullptr) return detail::run_on_pool<B>(std::move(command));
  auto plan = pipeline::plan_cached(*deps.cache, deps.pipeline, command.envelope);
  if (!plan) return detail::run_on_pool<B>(std::move(command));
  // The request goes to the committer; only the state it leads to is kept for the answer.
  return append_call{std::move(plan->request),
                     [cache = deps.cache, command = std::move(command), next = std::move(plan->next)](
                         core::committer_answer answer) mutable -> step {
                       return detail::after_append<B>(*cache, command, next, std::move(answer));
                     }};
}

// Adds a domain's command routes: each prepares its command, then takes first_step().
template <command_binding B>
void add_command_routes(router& r, const command_dependencies<B>& deps, std::initializer_list<command_route<B>> table) {
  for (const auto& row : table) {
    r.add(route_spec{row.method, row.pattern, row.who,
                     [deps, prepare = row.prepare](request_context& ctx) -> step {
                       auto made = prepare(ctx);
                       if (auto* refused = std::get_if<http_response>(&made)) return std::move(*refused);
                       return first_step<B>(deps, std::move(std::get<prepared<B>>(made)));
                     },
                     row.takes_json_body});
  }
}

}  // namespace cqrs::gateway
