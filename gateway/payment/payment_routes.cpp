#include "gateway/payment/payment_routes.hpp"

#include <memory>
#include <utility>
#include <variant>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/security/webhook_signature.hpp"
#include "gateway/consistency.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "projections/order/order_projections.hpp"

namespace cqrs::gateway::payment {

namespace {

namespace json = boost::json;
namespace security = core::security;
using projections::order::payment_view;

// The actor of the commands a webhook sends: the card processor.
constexpr std::string_view provider_actor = "payment-provider";

// What the routes share; the router keeps it alive with its handlers.
struct payment_services {
  std::string secret;
  std::chrono::seconds tolerance{security::default_webhook_tolerance};
  security::webhook_replay_cache replays;  // shared by the I/O threads
};
using services_ptr = std::shared_ptr<payment_services>;

http_response refused(webhook_errc code, std::string detail) {
  problem p{map_error(code), std::string(to_string(code)), std::move(detail), {}, {}};
  if (code == webhook_errc::replay_cache_full || code == webhook_errc::unknown_payment) {
    p.extra_headers.emplace_back("Retry-After", "1");
  }
  return to_response(p);
}

// ---- GET /v1/payments/{id} ---------------------------------------------------------------------

json::object money_json(std::int64_t amount, const std::string& currency) {
  return {{"amount", amount}, {"currency", currency}};
}

http_response payment_response(const std::string& id, const payment_view& p) {
  const json::object body{{"id", id},
                          {"order_id", p.order_id},
                          {"amount", money_json(p.amount_minor, p.currency)},
                          {"status", p.status},
                          {"refunded", money_json(p.refunded_minor, p.currency)},
                          {"version", p.version}};
  auto response = json_response(200, body);
  response.set_header("ETag", fmt::format("\"{}\"", p.version));
  response.set_header("Cache-Control", "no-store");
  return response;
}

http_response no_such_payment(const std::string& id) {
  return problem_response(errc::resource_not_found, fmt::format("no payment has the id {}", id));
}

step get_payment(request_context& ctx) {
  const auto id = path_param(ctx, "id");
  if (!stream_of(payment_binding::aggregate::category, id)) {
    return problem_response(errc::validation_failed, "the request has invalid parameters",
                            {{"id", std::string(invalid_id_message)}});
  }
  return offload{pool_kind::postgres,
                 [id, caller = *ctx.caller](worker_context& workers) -> step {
                   const auto payment = projections::order::fold_payment_view(workers.store(), id);
                   if (!payment) return no_such_payment(id);
                   if (!caller.has_role("admin")) {
                     // Its order's customer only: the order says whose it is.
                     const auto order = projections::order::fold_order_view(workers.store(), payment->order_id);
                     if (!order || order->customer_id != caller.subject) return no_such_payment(id);
                   }
                   return payment_response(id, *payment);
                 },
                 std::chrono::milliseconds{0}};
}

// ---- POST /v1/payments/provider-events ---------------------------------------------------------

std::optional<webhook_errc> signature_refusal(security::webhook_verdict verdict) {
  using security::webhook_verdict;
  switch (verdict) {
    case webhook_verdict::valid: return std::nullopt;
    case webhook_verdict::malformed: return webhook_errc::malformed_signature;
    case webhook_verdict::bad_signature: return webhook_errc::bad_signature;
    case webhook_verdict::stale: return webhook_errc::stale_signature;
    case webhook_verdict::replayed: return webhook_errc::replayed_event;
    case webhook_verdict::cache_full: return webhook_errc::replay_cache_full;
  }
  return webhook_errc::malformed_signature;
}

// The command a settled or declined charge comes to; nothing for other events.
std::optional<schemas::payment_command> command_of(const detail::provider_event& e) {
  if (e.status == "authorized" || e.status == "captured") {
    return schemas::payment_command{schemas::authorize_payment{schemas::charge_id(e.charge_id)}};
  }
  if (e.status == "declined") {
    return schemas::payment_command{schemas::decline_payment{e.failure_code.empty() ? "declined" : e.failure_code}};
  }
  return std::nullopt;
}

bool recorded_before(worker_context& workers, const std::string& event_id) {
  return read_only(workers, [&](pqxx::transaction_base& tx) {
    return !tx.exec_params("SELECT 1 FROM payment_webhook_events WHERE event_id = $1", event_id).empty();
  });
}

// True when this delivery recorded the event first.
bool record(worker_context& workers, const detail::provider_event& e) {
  bool first = false;
  workers.reads().run(core::statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    first = tx.exec_params(
                  "INSERT INTO payment_webhook_events (event_id, event_type, payment_id) VALUES ($1, $2, $3) "
                  "ON CONFLICT (event_id) DO NOTHING",
                  e.id, e.type, e.payment_id)
                .affected_rows() == 1;
    tx.commit();
  });
  return first;
}

http_response acted(const detail::provider_event& e, std::string_view outcome, http_response command_answer) {
  json::object body{{"id", e.id}, {"payment_id", e.payment_id}, {"outcome", outcome}};
  if (command_answer.status >= 400) {
    // The payment's state refused the command (already settled, say): decided, nothing to retry.
    const auto problem = json::parse(command_answer.body).as_object();
    body["code"] = problem.at("code");
    body["detail"] = problem.at("detail");
  }
  auto response = json_response(200, body);
  copy_consistency_token(command_answer, response);
  return response;
}

step act_on(const detail::provider_event& e, schemas::payment_command c, std::string request_id) {
  return offload{
      pool_kind::postgres,
      [e, c = std::move(c), request_id = std::move(request_id)](worker_context& workers) -> step {
        if (recorded_before(workers, e.id)) {
          return refused(webhook_errc::replayed_event, fmt::format("the event {} was acted on before", e.id));
        }
        auto stream = *stream_of(payment_binding::aggregate::category, e.payment_id);
        if (workers.pipeline<payment_binding::aggregate>().load(stream).version.value() == 0) {
          return refused(webhook_errc::unknown_payment, fmt::format("no payment has the id {} (yet)", e.payment_id));
        }
        commands::command_context context;
        context.command_id = request_id;
        context.correlation_id = request_id;
        context.actor = std::string(provider_actor);
        context.idempotency_key = gateway::detail::scoped_idempotency_key(provider_actor, e.id);
        const prepared<payment_binding> command{e.payment_id, {std::move(stream), c, std::move(context)}, false, {}};
        return execute_then<payment_binding>(
            workers, command, [&](const auto& outcome, http_response answer) -> step {
              using rejection = payment_binding::aggregate::rejection_type;
              const bool accepted = std::holds_alternative<commands::accepted>(outcome);
              const bool decided = accepted || std::holds_alternative<commands::rejected<rejection>>(outcome);
              if (!decided) return answer;  // a conflict or an outage: the provider retries
              if (!record(workers, e)) {
                return refused(webhook_errc::replayed_event, fmt::format("the event {} was acted on before", e.id));
              }
              return acted(e, accepted ? "applied" : "refused", std::move(answer));
            });
      },
      std::chrono::milliseconds{0}};
}

step provider_events(request_context& ctx, const services_ptr& s) {
  if (s->secret.empty()) {
    return refused(webhook_errc::webhook_not_configured, "this gateway has no CQRS_PAYMENT_WEBHOOK_SECRET");
  }
  const auto header = ctx.request.header("provider-signature").value_or("");
  const auto verdict =
      security::verify_webhook(s->secret, header, ctx.request.body, security::unix_now(), s->tolerance, &s->replays);
  if (const auto why = signature_refusal(verdict)) {
    return refused(*why, fmt::format("Provider-Signature: {}", security::to_string(verdict)));
  }
  std::vector<field_error> errors;
  const auto event = detail::read_provider_event(ctx.request.body, errors);
  if (!errors.empty()) {
    return problem_response(errc::validation_failed, "the event has invalid fields", std::move(errors));
  }
  auto command = command_of(event);
  if (!command) {
    // Nothing the engine acts on (another event type or status): acknowledged, so not re-sent.
    return json_response(200, json::object{{"id", event.id}, {"outcome", "ignored"}});
  }
  return act_on(event, std::move(*command), ctx.request_id);
}

}  // namespace

namespace detail {

provider_event read_provider_event(const std::string& body, std::vector<field_error>& errors) {
  provider_event out;
  boost::system::error_code failure;
  const auto parsed = json::parse(body, failure);
  const auto* root = failure ? nullptr : parsed.if_object();
  if (root == nullptr) {
    errors.push_back({"body", "must be a JSON object"});
    return out;
  }
  const auto text = [&](const json::object* in, std::string_view name, std::string_view field, bool required) {
    const auto* v = in == nullptr ? nullptr : in->if_contains(name);
    if (v != nullptr && v->is_string() && !v->get_string().empty() && v->get_string().size() <= 200) {
      return std::string(v->get_string());
    }
    if (required || v != nullptr) errors.push_back({std::string(field), "must be a string of 1 to 200 characters"});
    return std::string();
  };
  const auto object = [&](const json::object* in, std::string_view name, std::string_view field) -> const json::object* {
    const auto* v = in == nullptr ? nullptr : in->if_contains(name);
    if (v != nullptr && v->is_object()) return &v->get_object();
    errors.push_back({std::string(field), "must be an object"});
    return nullptr;
  };
  out.id = text(root, "id", "id", true);
  out.type = text(root, "type", "type", true);
  const auto* data = object(root, "data", "data");
  out.charge_id = text(data, "id", "data.id", true);
  out.status = text(data, "status", "data.status", true);
  out.payment_id = text(object(data, "metadata", "data.metadata"), "payment_id", "data.metadata.payment_id", true);
  out.failure_code = text(data, "failure_code", "data.failure_code", false);
  if (!out.payment_id.empty() && !stream_of(payment_binding::aggregate::category, out.payment_id)) {
    errors.push_back({"data.metadata.payment_id", std::string(invalid_id_message)});
  }
  return out;
}

}  // namespace detail

void add_payment_routes(router& r, const domain_context& context) {
  const auto services = std::make_shared<payment_services>();
  services->secret = context.config.webhook_secret;
  services->tolerance = context.config.webhook_tolerance;
  r.add(route_spec{"GET", "/v1/payments/{id}", access_policy::any_of({"customer", "admin"}),
                   [](request_context& ctx) { return get_payment(ctx); }, false});
  r.add(route_spec{"POST", "/v1/payments/provider-events", access_policy::anyone(),
                   [services](request_context& ctx) { return provider_events(ctx, services); }, true});
}

}  // namespace cqrs::gateway::payment
