#include "gateway/router.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string_view>
#include <unordered_map>
#include <stdexcept>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "core/ids.hpp"
#include "core/log.hpp"
#include "gateway/cors_policy.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/json_body.hpp"
#include "gateway/jwt.hpp"
#include "gateway/problem.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/request_target.hpp"

namespace cqrs::gateway {

namespace detail {

bool is_valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

std::string generate_request_id() {
  // The event store's UUID generator is already a good source of randomness; its 16 bytes as hex.
  std::string out;
  out.reserve(32);
  const auto id = core::event_id::generate();
  for (const auto byte : id.bytes()) out += fmt::format("{:02x}", byte);
  return out;
}

}  // namespace detail

namespace {

// ---- patterns and paths ----------------------------------------------------------------------

struct segment {
  std::string text;  // the literal, or the parameter's name
  bool is_parameter = false;
};

struct compiled_route {
  route_spec spec;
  std::vector<segment> segments;
  std::string name;  // "GET /v1/products/{id}": the label for metrics and logs
};

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

bool is_parameter_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// A bad pattern is a programming error found at start-up, so it throws.
std::vector<segment> compile_pattern(std::string_view pattern) {
  if (!pattern.starts_with('/')) throw std::invalid_argument(fmt::format("route pattern {} must start with '/'", pattern));
  std::vector<segment> out;
  for (const auto part : split_segments(pattern)) {
    if (part.starts_with('{') && part.ends_with('}') && part.size() > 2) {
      const auto name = part.substr(1, part.size() - 2);
      if (!is_parameter_name(name)) throw std::invalid_argument(fmt::format("bad parameter in route pattern {}", pattern));
      out.push_back({std::string(name), true});
    } else if (part.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument(fmt::format("bad segment in route pattern {}", pattern));
    } else {
      out.push_back({std::string(part), false});
    }
  }
  return out;
}

// The path's segments, each percent-decoded on its own (request_target.hpp): matching on the raw
// target keeps an encoded '/' ("%2F") inside its segment instead of splitting the path there.
std::optional<std::vector<std::string>> request_segments(http_request& request) {
  if (!request.segments.empty()) return std::move(request.segments);  // read once, by the server
  // The path alone: the query was read (and judged) by the server into request.query.
  std::string_view raw = request.target.starts_with('/') ? std::string_view(request.target) : request.path;
  auto target = parse_request_target(raw.substr(0, raw.find('?')));
  if (!target) return std::nullopt;
  return std::move(target->segments);
}

// Every query parameter is text: a value that is not UTF-8 (an encoded byte like "%ff") or holds
// a NUL ("%00", which PostgreSQL cannot store and C APIs cut a string at) could not be stored,
// compared or echoed safely by any route.
bool is_parameter_text(std::string_view text) {
  return is_valid_utf8(text) && text.find('\0') == std::string_view::npos;
}

// A parameter given twice is refused, as a body member given twice is (json_body.hpp): routes read
// the first, and a proxy or cache in front may read the last.
std::optional<http_response> check_query_text(const http_request& request) {
  std::vector<field_error> errors;
  std::unordered_map<std::string_view, int> seen;  // times each name was given
  for (const auto& [name, value] : request.query) {
    if (!is_parameter_text(name)) {
      return problem_response(errc::malformed_request, "a query parameter name is not UTF-8 text without NUL");
    }
    const int times = ++seen[name];
    if (times == 2) {
      errors.push_back({name, "is given more than once"});  // named once, however often repeated
    } else if (times == 1 && !is_parameter_text(value)) {
      errors.push_back({name, "must be UTF-8 text without NUL (after percent-decoding)"});
    }
  }
  if (errors.empty()) return std::nullopt;
  return problem_response(errc::validation_failed, "the request has invalid parameters", std::move(errors));
}

bool path_matches(const compiled_route& route, const std::vector<std::string>& path) {
  if (route.segments.size() != path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& s = route.segments[i];
    if (s.is_parameter ? path[i].empty() : s.text != path[i]) return false;
  }
  return true;
}

// Literal segments beat parameters, leftmost first: "/v1/products/search" wins over "/v1/products/{id}".
bool more_specific(const compiled_route& a, const compiled_route& b) {
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].is_parameter != b.segments[i].is_parameter) return !a.segments[i].is_parameter;
  }
  return false;
}

bool method_matches(const std::string& route_method, const std::string& request_method) {
  return route_method == request_method || (request_method == "HEAD" && route_method == "GET");
}

struct route_match {
  const compiled_route* route = nullptr;
  std::set<std::string> allowed;  // methods of the routes whose path matches
};

route_match find_route(const std::vector<compiled_route>& routes, const std::vector<std::string>& path,
                       const std::string& method) {
  route_match out;
  for (const auto& candidate : routes) {
    if (!path_matches(candidate, path)) continue;
    out.allowed.insert(candidate.spec.method);
    if (candidate.spec.method == "GET") out.allowed.insert("HEAD");
    if (!method_matches(candidate.spec.method, method)) continue;
    if (out.route == nullptr || more_specific(candidate, *out.route)) out.route = &candidate;
  }
  if (!out.allowed.empty()) out.allowed.insert("OPTIONS");
  return out;
}

std::map<std::string, std::string> parameters_of(const compiled_route& route, std::vector<std::string>& path) {
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (route.segments[i].is_parameter) params.emplace(route.segments[i].text, std::move(path[i]));
  }
  return params;
}

// ---- credentials ---------------------------------------------------------------------------------

struct credentials {
  std::optional<principal> caller;
  std::optional<std::string> refusal;  // a token was presented and is not valid: why
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

credentials read_credentials(const http_request& request, const jwt_verifier& tokens) {
  const auto header = request.header("authorization");
  if (!header) return {};
  const auto space = header->find(' ');
  if (space == std::string_view::npos || !iequals(header->substr(0, space), "Bearer")) {
    return {std::nullopt, "the Authorization header must be \"Bearer <token>\""};
  }
  auto token = header->substr(space + 1);
  while (token.starts_with(' ')) token.remove_prefix(1);
  if (token.empty()) return {std::nullopt, "the bearer token is empty"};
  auto verified = tokens.verify(token);
  if (auto* refused = std::get_if<token_refusal>(&verified)) return {std::nullopt, std::move(refused->reason)};
  return {std::move(std::get<principal>(verified)), std::nullopt};
}

http_response unauthorized(std::string detail) {
  auto p = make_problem(errc::unauthorized, std::move(detail));
  p.extra_headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return to_response(p);
}

// ---- bodies ----------------------------------------------------------------------------------------

// "application/json", any case, parameters (charset) allowed.
bool is_json_media_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (media.ends_with(' ') || media.ends_with('\t')) media.remove_suffix(1);
  while (media.starts_with(' ') || media.starts_with('\t')) media.remove_prefix(1);
  return iequals(media, "application/json");
}

std::optional<http_response> check_json_body(const http_request& request) {
  const auto type = request.header("content-type");
  if (!type || !is_json_media_type(*type)) {
    return problem_response(errc::unsupported_media_type, "the body must be application/json");
  }
  const auto checked = check_json_body_text(request.body);
  switch (checked.outcome) {
    case json_body_check::verdict::object: return std::nullopt;
    case json_body_check::verdict::not_object:
      return problem_response(errc::malformed_request, "the body must be a JSON object");
    case json_body_check::verdict::invalid: return problem_response(errc::malformed_request, "the body is not valid JSON");
    case json_body_check::verdict::duplicate_member:
      return problem_response(errc::validation_failed, "a member of the body is given more than once",
                              {{checked.member, "is given more than once"}});
    case json_body_check::verdict::nul_character:
      return problem_response(errc::validation_failed, "a string in the body holds a NUL character",
                              {{checked.member, "must not contain the NUL character (U+0000)"}});
    case json_body_check::verdict::too_many_members:
      return problem_response(errc::malformed_request,
                              fmt::format("an object in the body{} has more than {} members",
                                          checked.member.empty() ? "" : " (" + checked.member + ")",
                                          max_body_object_members));
  }
  std::abort();  // every verdict is handled above
}

// Methods as metric labels: a fixed set, so a client inventing verbs cannot grow the series.
std::string method_label(const std::string& method) {
  static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (const auto m : known) {
    if (method == m) return method;
  }
  return "other";
}

std::string join_methods(const std::set<std::string>& methods) {
  return fmt::format("{}", fmt::join(methods, ", "));
}

}  // namespace

// ---- the router ------------------------------------------------------------------------------------

struct router::impl {
  explicit impl(router_dependencies d)
      : deps(d),
        log("cqrs-gateway", d.config.engine.log),
        access_log(log.buffered(std::make_shared<core::log_buffer>())) {}

  router_dependencies deps;
  std::vector<compiled_route> routes;
  core::logger log;
  // A line per request, written in batches (at the latest every 100 ms); failures go to `log` at once.
  core::logger access_log;

  std::string adopt_request_id(http_request& request) const;
  std::optional<http_response> rate_limit(const http_request& request, const credentials& who) const;
  std::optional<http_response> authorize(const route_spec& spec, const credentials& who,
                                        const std::map<std::string, std::string>& params) const;
  routed dispatch(http_request& request, std::vector<std::string> path, credentials who);
};

// The caller's id when it is sane, else a new one; written back into the request so that every
// later layer (handlers, failed(), finish()) sees the same id.
std::string router::impl::adopt_request_id(http_request& request) const {
  for (auto& [name, value] : request.headers) {
    if (name != "x-request-id") continue;
    if (!detail::is_valid_request_id(value)) value = detail::generate_request_id();
    return value;
  }
  auto id = detail::generate_request_id();
  request.headers.emplace_back("x-request-id", id);
  return id;
}

// Keyed by the verified subject when there is one, so that a client behind a shared address
// (a proxy, NAT) is limited on its own; an unverified token counts against its address.
std::optional<http_response> router::impl::rate_limit(const http_request& request, const credentials& who) const {
  const auto key = who.caller ? "sub:" + who.caller->subject : "addr:" + request.remote_address;
  const auto decision = deps.limiter.take(key);
  if (decision.allowed) return std::nullopt;
  return retry_later(errc::rate_limited, "too many requests; slow down",
                     static_cast<int>(decision.retry_after.count()));
}

std::optional<http_response> router::impl::authorize(const route_spec& spec, const credentials& who,
                                                     const std::map<std::string, std::string>& params) const {
  // A bad token is refused even where none is needed: the client believes it is authenticated.
  if (who.refusal) return unauthorized("the bearer token is not valid: " + *who.refusal);
  if (!spec.who.needs_token()) return std::nullopt;
  if (!who.caller) return unauthorized("a bearer token is required");
  if (auto why = spec.who.refusal(*who.caller, params)) return problem_response(errc::forbidden, std::move(*why));
  return std::nullopt;
}

routed router::impl::dispatch(http_request& request, std::vector<std::string> path, credentials who) {
  const auto match = find_route(routes, path, request.method);
  if (match.route == nullptr) {
    if (match.allowed.empty()) return {"unmatched", problem_response(errc::route_not_found, "no route has this path")};
    if (request.method == "OPTIONS") {
      return {"unmatched", http_response{204, {{"Allow", join_methods(match.allowed)}}, {}}};
    }
    auto refusal = problem_response(errc::method_not_allowed,
                                    fmt::format("{} is not allowed here", method_label(request.method)));
    refusal.set_header("Allow", join_methods(match.allowed));
    return {"unmatched", std::move(refusal)};
  }
  const auto& route = *match.route;
  if (auto refusal = check_query_text(request)) return {route.name, std::move(*refusal)};
  if (route.spec.takes_json_body) {
    if (auto refusal = check_json_body(request)) return {route.name, std::move(*refusal)};
  }
  auto params = parameters_of(route, path);
  if (auto refusal = authorize(route.spec, who, params)) return {route.name, std::move(*refusal)};
  request_context ctx{request, std::move(params), std::move(who.caller), std::string(*request.header("x-request-id"))};
  return {route.name, route.spec.handler(ctx)};
}

router::router(router_dependencies deps) : impl_(std::make_unique<impl>(deps)) {}

router::~router() = default;

void router::add(route_spec spec) {
  compiled_route route{std::move(spec), {}, {}};
  route.segments = compile_pattern(route.spec.pattern);
  route.name = route.spec.method + " " + route.spec.pattern;
  for (const auto& existing : impl_->routes) {
    if (existing.spec.method != route.spec.method || existing.segments.size() != route.segments.size()) continue;
    if (!more_specific(existing, route) && !more_specific(route, existing) &&
        std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                   [](const segment& a, const segment& b) { return a.is_parameter ? b.is_parameter : a.text == b.text; })) {
      throw std::invalid_argument("route added twice: " + route.name);
    }
  }
  impl_->routes.push_back(std::move(route));
}

routed router::route(http_request& request) {
  impl_->adopt_request_id(request);
  const auto& cors = impl_->deps.cors;
  if (cors.is_preflight(request)) {
    if (auto answer = cors.preflight(request)) return {"preflight", std::move(*answer)};
  }
  auto who = read_credentials(request, impl_->deps.tokens);
  if (auto limited = impl_->rate_limit(request, who)) return {"rate_limited", std::move(*limited)};
  auto path = request_segments(request);
  if (!path) return {"unmatched", problem_response(errc::malformed_request, "the path is not valid")};
  return impl_->dispatch(request, std::move(*path), std::move(who));
}

http_response router::overloaded(const http_request& /*request*/, pool_kind kind) {
  return retry_later(errc::overloaded, fmt::format("the {} pool is saturated; retry", to_string(kind)), 1);
}

http_response router::failed(const http_request& request, std::string_view what, bool dependency_down) {
  // The text may name hosts, statements or data: it goes to the log, never to the client.
  impl_->log.error("request failed", {{"request_id", request.header("x-request-id").value_or("")},
                                      {"method", request.method},
                                      {"path", request.path},
                                      {"dependency_down", dependency_down ? "true" : "false"},
                                      {"error", what}});
  if (!dependency_down) return problem_response(errc::internal_error, "the request failed; it has been logged");
  return retry_later(errc::dependency_unavailable, "a dependency failed; retry later", 1);
}

http_response router::refused(const http_request& /*request*/, int status, std::string_view detail) {
  switch (status) {
    case 400: return problem_response(errc::malformed_request, std::string(detail));
    case 408: return problem_response(errc::request_timeout, std::string(detail));
    case 413: return problem_response(errc::payload_too_large, std::string(detail));
    case 431: return problem_response(errc::headers_too_large, std::string(detail));
    default: break;  // an int, not an enum: the server refuses with these four only
  }
  return problem_response(errc::internal_error, std::string(detail));
}

void router::finish(const http_request& request, const std::string& route, http_response& response,
                    std::chrono::nanoseconds elapsed) {
  // Refused requests never went through route(): their id is checked (or made) here.
  const auto sent = request.header("x-request-id");
  const auto id = sent && detail::is_valid_request_id(*sent) ? std::string(*sent) : detail::generate_request_id();
  response.set_header("X-Request-Id", id);
  if (!impl_->deps.cors.is_preflight(request)) impl_->deps.cors.decorate(request, response);
  const auto method = method_label(request.method);
  impl_->deps.metrics.record(route, method, response.status, elapsed);
  impl_->access_log.info("request", {{"request_id", id}, {"method", method}, {"route", route}, {"path", request.path},
                              {"status", response.status},
                              {"duration_ms", fmt::format("{:.3f}", std::chrono::duration<double, std::milli>(elapsed).count())},
                              {"remote", request.remote_address}});
}

}  // namespace cqrs::gateway
