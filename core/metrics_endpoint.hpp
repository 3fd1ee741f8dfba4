#pragma once

// A process's metrics over HTTP for Prometheus: GET /metrics (and HEAD) answers the registry's
// text (metrics.hpp) on a port of the process's own, from one thread of its own, so that the
// relay, the projector, the saga workers and any other long-running process can be scraped like
// the gateway. Plain HTTP, meant for loopback or a private network (CQRS_METRICS_HOST, 127.0.0.1
// by default); one request per connection, a request head of at most 8 KiB, 5 s to send it.
//
// One call in a process's main, after its registry is made and before its work starts:
//
//   core::metrics_registry registry;
//   const auto endpoint = core::serve_metrics(source, registry, log);  // nothing when no port is set
//
// with core::metrics_endpoint_specs() added to the settings the process reads (for --help and its
// --metrics-port / --metrics-host flags). The endpoint stops when destroyed: keep it alive as long
// as the registry it reads. Series kept in other registries (a client's own, say) are added with
// `more`, called on the endpoint's thread for each request and appended to the registry's text.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::core {

// Prometheus text rendered elsewhere, appended after the registry's (as write_metrics_file's `more`).
using metrics_text = std::function<std::string()>;

class metrics_endpoint {
 public:
  // Binds and listens at once (std::system_error when the address is taken), then serves from a
  // thread of its own until destroyed. Port 0: any free port (see port()).
  metrics_endpoint(const metrics_registry& registry, const std::string& host, std::uint16_t port,
                   metrics_text more = {});
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  std::uint16_t port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// CQRS_METRICS_PORT (unset: no endpoint) and CQRS_METRICS_HOST.
std::vector<setting_spec> metrics_endpoint_specs();

// The endpoint the settings ask for, its address logged ("metrics endpoint listening"); nothing
// when CQRS_METRICS_PORT is unset. A bad value is a config_error; a port already taken throws
// std::system_error (the process's supervisor starts it again).
std::unique_ptr<metrics_endpoint> serve_metrics(const settings_source& source, const metrics_registry& registry,
                                                const logger& log, metrics_text more = {});

}  // namespace cqrs::core
