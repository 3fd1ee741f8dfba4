#pragma once

// The stand-in processor's HTTP API as plain values: a request in, an answer out, with no socket
// in sight (the Beast server in server.cpp carries them). docs/payment-provider.md is its
// reference. Faults are not decided here: the server draws them around handle().

#include <optional>
#include <string>
#include <vector>

#include "tools/payment_provider/faults.hpp"
#include "tools/payment_provider/ledger.hpp"

namespace cqrs::tools::payment_provider {

struct api_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::optional<std::string> idempotency_key;
  std::string body;
};

struct api_response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool replayed = false;  // a stored answer, sent again for a repeated Idempotency-Key
};

// What a handled request asks the server to do afterwards.
struct api_effects {
  std::vector<std::string> to_settle;  // pending charges to settle after the settle delay
};

// Whether faults apply: the payment API (/v1/...), never the admin API or the health check.
bool is_payment_call(const api_request& request);

class provider_api {
 public:
  provider_api(ledger& books, fault_injector& faults) : books_(books), faults_(faults) {}
  provider_api(const provider_api&) = delete;
  provider_api& operator=(const provider_api&) = delete;

  api_response handle(const api_request& request, api_effects& effects);

 private:
  api_response idempotent(const api_request& request, api_effects& effects);
  api_response route(const api_request& request, api_effects& effects);
  api_response admin(const api_request& request, const std::string& path);
  api_response create_charge(const api_request& request, api_effects& effects);
  api_response charge_action(const api_request& request, const std::string& id, const std::string& action);
  api_response list_charges(const std::string& target);

  ledger& books_;
  fault_injector& faults_;
};

}  // namespace cqrs::tools::payment_provider
