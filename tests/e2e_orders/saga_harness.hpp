#pragma once

// The order tests' card processor and process managers: a real cqrs-payment-provider and a real
// cqrs-processes calling it over HTTPS (the test stack's CA), started beside the engine of
// engine_processes, with the provider's ledger and fault injection and both logs for diagnostics.
// Each test binary chooses the settings (webhooks or none, payment deadline, breaker) and the
// consumer group.

#include <functional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/e2e_gateway/engine_processes.hpp"
#include "tests/e2e_orders/order_api.hpp"
#include "tests/e2e_payment/provider_harness.hpp"

namespace cqrs::tests {

// The build directory: $CQRS_BUILD_DIR, else build.
std::string build_dir();

// Provider settings that send its webhooks, signed with the stack's secret, to `engine`'s gateway.
payment::settings webhooks_to(engine_processes& engine);

// The order's read as `reader` once its status is `status`, within 60 s; otherwise a FAIL naming
// the last read and `diagnostics()`.
boost::json::object settled_order(order_api& orders, session& reader, const std::string& id, const std::string& status,
                                  const std::function<std::string()>& diagnostics);

// The id of an order's payment, from its read.
std::string payment_of(const boost::json::object& order);

class saga_harness {
 public:
  // Starts the provider with `provider_settings`, then cqrs-processes in consumer group `group`
  // (logging to `log_path`) calling it, with `processes_settings` after the defaults (a later
  // setting of the same name wins: the environment's last).
  saga_harness(const payment::settings& provider_settings, const std::string& group, const std::string& log_path,
               const environment& processes_settings = {});

  // The provider's ledger entries of `payment_id`.
  std::vector<boost::json::object> ledger(const std::string& payment_id) const;

  // PUT /_admin/faults with `body`; the answer's status.
  unsigned faults(const std::string& body) const;

  // The process's last log lines and the provider's log.
  std::string diagnostics() const;

 private:
  payment::provider_process provider_;
  child_process processes_;
};

}  // namespace cqrs::tests
