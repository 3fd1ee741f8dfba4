// Harness http_request: the HTTP request path, from the bytes a client sends to the router's
// decision. The bytes go through the server's own request reading (gateway/detail/
// request_reading.hpp: Beast's parser with the server's limits, and the framing checks), arriving
// in reads of a size the input's first byte picks (0: all at once), pipelined requests one after
// another as on a keep-alive connection. Each whole request is converted as the server converts
// it and routed by a router holding every route the gateway serves (as cqrs-gateway builds it);
// a refusal is answered by the router's refused(). Offloads are not run: the decision is the
// first step. Every response must be a non-5xx, every refusal problem+json
// (fuzz_support.hpp), and no exception may escape (the server would answer it with a 500). How
// the bytes are split into reads must not matter: the same bytes read all at once must come to
// the same decisions, except that a request cut short by the end of the input may be refused
// when read at once (Beast finds a bad byte at once when it has more of the line) and left
// waiting for more when read in pieces, and that a request broken in two ways may be refused for
// either (a chunk too large for the body limit, 413, or the bad byte after its size, 400).
//
// Rate limiting is off (a fuzzer is one client sending millions of requests); tokens are checked
// against the secret below, so the corpus holds tokens signed with it that expire in 2100.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <string>
#include <variant>

#include "core/metrics.hpp"
#include "gateway/cors_policy.hpp"
#include "gateway/detail/request_reading.hpp"
#include "gateway/domain.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/jwt.hpp"
#include "gateway/operations_routes.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/router.hpp"
#include "gateway/stream_routes.hpp"
#include "gateway/worker_context.hpp"
#include "gateway/worker_pool.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::gateway;
namespace http = boost::beast::http;

constexpr std::size_t read_chunk = 16 * 1024;  // the server's largest read
const std::string remote = "192.0.2.7";

gateway_config make_config() {
  gateway_config config;
  config.engine.log = core::log_level::error;  // no access log lines
  config.auth.jwt_secret = "fuzz-secret-0123456789abcdef0123";
  config.rate_limit.requests_per_second = 0;
  config.cors_origins = {"https://app.example"};
  return config;
}

worker_settings make_settings(const gateway_config& config) {
  worker_settings settings;
  settings.caches = std::make_shared<const command_caches>(make_command_caches(config));
  return settings;
}

// The gateway's routing as cqrs-gateway builds it (gateway/main.cpp), without a server: the pools
// have one idle thread each (nothing is offloaded), and no database is ever reached.
struct gateway_world {
  gateway_world()
      : config(make_config()),
        tokens(config.auth),
        limiter(config.rate_limit),
        cors(config.cors_origins),
        metrics(registry),
        settings(make_settings(config)),
        postgres(pool_kind::postgres, 1, 0, settings),
        redis(pool_kind::redis, 1, 0, settings),
        routes(router_dependencies{config, tokens, limiter, cors, metrics}) {
    add_domain_routes(routes, {config, *settings.caches, settings.pipeline, lag});
    add_stream_routes(routes, config);
    add_operations_routes(routes, {config, registry, postgres, redis, lag});
  }

  gateway_config config;
  core::metrics_registry registry;
  const jwt_verifier tokens;
  rate_limiter limiter;
  const cors_policy cors;
  http_metrics metrics;
  worker_settings settings;
  worker_pool postgres;
  worker_pool redis;
  router routes;
  read_model_lag lag;  // never measured here: no read carries its header
};

gateway_world& world() {
  static gateway_world w;
  return w;
}

// What the connection came to, request by request: the route and the status (0: a first step
// that is not a response).
using decisions = std::string;

void answer(const http_request& request, const std::string& route, http_response response, decisions& out) {
  check_answer(response);
  world().routes.finish(request, route, response, std::chrono::nanoseconds{0});
  out += route + " " + std::to_string(response.status) + "\n";
}

// Feeds the connection's bytes, `chunk` at a time, until `parser` decides or the bytes run out.
detail::read_step read_one(detail::request_parser& parser, boost::beast::flat_buffer& buffer, std::string_view& input,
                           std::size_t chunk) {
  detail::fold_scan fold_scanned;
  for (;;) {
    if (buffer.size() > 0) {
      auto step = detail::offer(parser, buffer, fold_scanned);
      if (step.what != detail::read_step::kind::more) return step;
    }
    if (buffer.size() >= buffer.max_size()) return detail::refusal_for(http::error::buffer_overflow);
    if (input.empty()) return {};  // the client closed mid-request: nothing to answer
    const auto n = std::min({chunk, input.size(), buffer.max_size() - buffer.size()});
    auto room = buffer.prepare(n);
    std::memcpy(room.data(), input.data(), n);
    buffer.commit(n);
    input.remove_prefix(n);
  }
}

// One connection's requests, each answered as connection::dispatch and refuse() answer them.
decisions serve(std::string_view input, std::size_t chunk) {
  auto& w = world();
  decisions out;
  boost::beast::flat_buffer buffer(w.config.limits.max_header_bytes + read_chunk);
  for (;;) {
    detail::request_parser parser;
    detail::limit(parser, w.config.limits);
    const auto step = read_one(parser, buffer, input, chunk);
    if (step.what == detail::read_step::kind::more) return out;
    if (step.what == detail::read_step::kind::refused) {
      const auto request = detail::refused_request(parser, remote);
      answer(request, "refused", w.routes.refused(request, step.status, step.detail), out);
      return out;
    }
    auto message = parser.release();
    const bool keep_alive = message.keep_alive();
    http_request request;
    if (!detail::to_request(std::move(message), remote, request)) {
      answer(request, "refused", w.routes.refused(request, 400, detail::invalid_target), out);
      return out;
    }
    auto routed = w.routes.route(request);
    if (auto* response = std::get_if<http_response>(&routed.first)) {
      answer(request, routed.route, std::move(*response), out);
    } else {
      out += routed.route + " 0\n";
    }
    if (!keep_alive) return out;
  }
}

// The decisions with every refusal's status left out.
decisions refusals_alike(const decisions& d) {
  decisions out;
  std::size_t start = 0;
  while (start < d.size()) {
    const auto end = d.find('\n', start);
    const auto line = d.substr(start, end - start);
    out += (line.starts_with("refused ") ? std::string("refused") : line) + "\n";
    start = end + 1;
  }
  return out;
}

// `split` came to what `whole` came to, or to all of it but a last refusal (see the top).
bool same_decisions(const decisions& whole_decisions, const decisions& split_decisions) {
  const auto whole = refusals_alike(whole_decisions);
  const auto split = refusals_alike(split_decisions);
  if (split == whole) return true;
  const auto last = whole.rfind('\n', whole.size() - 2);
  const auto start = last == decisions::npos ? 0 : last + 1;
  return whole.compare(start, 8, "refused\n") == 0 && split == whole.substr(0, start);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto whole = cqrs::fuzz::serve(bytes, cqrs::fuzz::read_chunk);
  if (data[0] != 0) {
    const auto split = cqrs::fuzz::serve(bytes, data[0]);
    cqrs::fuzz::expect(cqrs::fuzz::same_decisions(whole, split), "reads of another size come to other decisions",
                       whole + "---\n" + split);
  }
  return 0;
}
