#include "gateway/problem.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace cqrs::gateway {

problem make_problem(errc code, std::string detail, std::vector<field_error> errors) {
  return {map_error(code), std::string{to_string(code)}, std::move(detail), std::move(errors), {}};
}

http_response to_response(const problem& p) {
  boost::json::object body;
  body["type"] = p.mapping.type;
  body["title"] = p.mapping.title;
  body["status"] = p.mapping.status;
  body["code"] = p.code;
  if (!p.detail.empty()) body["detail"] = p.detail;
  if (!p.errors.empty()) {
    boost::json::array list;
    for (const auto& e : p.errors) list.push_back(boost::json::object{{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(list);
  }
  http_response response{p.mapping.status, {{"Content-Type", "application/problem+json"}}, boost::json::serialize(body)};
  for (const auto& [name, value] : p.extra_headers) response.set_header(name, value);
  return response;
}

http_response problem_response(errc code, std::string detail, std::vector<field_error> errors) {
  return to_response(make_problem(code, std::move(detail), std::move(errors)));
}

http_response retry_later(errc code, std::string detail, int retry_after_seconds) {
  auto p = make_problem(code, std::move(detail));
  p.extra_headers.emplace_back("Retry-After", std::to_string(std::max(1, retry_after_seconds)));
  return to_response(p);
}

}  // namespace cqrs::gateway
