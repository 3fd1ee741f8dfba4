#include "gateway/processes/processes_gateway.hpp"

#include <charconv>
#include <string>

#include <boost/json.hpp>

#include "commands/processes/process_admin.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/problem.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

namespace {

namespace proc = commands::processes;

constexpr std::size_t max_limit = 1000;
constexpr std::size_t max_text = 200;

// The query's filter, or the problem naming the field.
std::variant<proc::process_filter, http_response> filter_of(const http_request& request) {
  proc::process_filter filter;
  std::vector<field_error> errors;
  if (const auto state = request.query_param("state")) {
    if (state->empty() || state->size() > max_text) errors.push_back({"state", "a state name, 1-200 characters"});
    filter.step = std::string(*state);
  }
  if (const auto stuck = request.query_param("stuck")) {
    if (*stuck != "true" && *stuck != "false") errors.push_back({"stuck", "true or false"});
    filter.stuck_only = *stuck == "true";
  }
  if (const auto limit = request.query_param("limit")) {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (ec != std::errc{} || end != limit->data() + limit->size() || value < 1 || value > max_limit) {
      errors.push_back({"limit", "an integer from 1 to 1000"});
    }
    filter.limit = value;
  }
  if (const auto after = request.query_param("after")) {
    if (after->empty() || after->size() > max_text) errors.push_back({"after", "a process id, 1-200 characters"});
    filter.after = std::string(*after);
  }
  if (!errors.empty()) return problem_response(errc::validation_failed, "the query has invalid parameters", errors);
  return filter;
}

step list(request_context& ctx) {
  auto filter = filter_of(ctx.request);
  if (auto* bad = std::get_if<http_response>(&filter)) return std::move(*bad);
  return offload{pool_kind::postgres, [filter = std::get<proc::process_filter>(filter)](worker_context& workers) -> step {
                   const auto found = proc::list_processes(workers.reads().get(), filter);
                   boost::json::array items;
                   for (const auto& p : found) items.push_back(proc::to_json(p));
                   boost::json::object body{{"items", std::move(items)}};
                   if (found.size() == filter.limit) body["next_after"] = found.back().process_id;
                   return json_response(200, body);
                 }};
}

step show(request_context& ctx) {
  std::string id(ctx.params.at("id"));
  if (id.empty() || id.size() > max_text) {
    return problem_response(errc::validation_failed, "invalid process id", {{"id", "1-200 characters"}});
  }
  return offload{pool_kind::postgres, [id](worker_context& workers) -> step {
                   const auto found = proc::show_process(workers.reads().get(), id);
                   if (found.empty()) return problem_response(errc::resource_not_found, "no process " + id);
                   boost::json::array items;
                   for (const auto& d : found) items.push_back(proc::to_json(d));
                   return json_response(200, boost::json::object{{"items", std::move(items)}});
                 }};
}

void add_caches(command_caches&, const gateway_config&) {}

void add_routes(router& r, const domain_context&) {
  const auto admin = access_policy::any_of({"admin"});
  r.add({"GET", "/v1/admin/processes", admin, list});
  r.add({"GET", "/v1/admin/processes/{id}", admin, show});
}

}  // namespace

gateway_domain processes_gateway() { return {"processes", {}, add_caches, add_routes}; }

}  // namespace cqrs::gateway
