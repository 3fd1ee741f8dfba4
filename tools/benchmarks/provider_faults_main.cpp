// cqrs-provider-fault-bench: the card processor's client (commands/payment_provider) under injected
// faults, against a running cqrs-payment-provider (tools/bench resilience starts one over HTTPS).
// Two runs, each printing RESULT lines (tools/benchmarks/result_lines.hpp):
//   lost answers: --payments payments, each charged the way the saga charges (the client's own
//     retries, then the same key again later until a definitive answer, at most 10 times), with
//     a share of the answers lost; the ledger then says how many charges each payment got.
//       fault_payments, fault_calls (attempts that reached the network), fault_retries,
//       fault_unsettled (payments without an answer after 10 tries), charges_per_payment_max,
//       fault_run_ms
//   failing provider: --flaps rounds of (error_rate 1 for a while, then healthy), with calls
//     throughout; how often the breaker opened and how many calls it kept from the provider.
//       fault_opens, fault_not_permitted, fault_closes
// Usage: cqrs-provider-fault-bench --url https://127.0.0.1:PORT --ca-file FILE [--payments N]
//        [--lose-rate R] [--flaps N]

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands/payment_provider/provider_client.hpp"
#include "core/https_client.hpp"
#include "core/log.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace {

namespace po = boost::program_options;
namespace provider = cqrs::commands::payment_provider;
namespace res = cqrs::core::resilience;
using namespace std::chrono_literals;
using cqrs::tools::benchmarks::print_result;

struct options {
  std::string url;
  std::string ca_file;
  std::uint64_t payments = 300;
  double lose_rate = 0.3;
  int flaps = 5;
};

// The provider's admin API (faults, ledger), over the same HTTPS.
class admin {
 public:
  explicit admin(const options& o) : to_(cqrs::core::parse_http_endpoint(o.url)), client_({.ca_file = o.ca_file}) {}

  std::string call(const std::string& method, const std::string& target, const std::string& body = {}) const {
    const auto reply = client_.send(to_, {method, target, {}, body}, std::chrono::steady_clock::now() + 10s);
    if (reply.result != cqrs::core::http_reply::outcome::answered || reply.status >= 300) {
      throw std::runtime_error(fmt::format("{} {}: {} {} {}", method, target, to_string(reply.result), reply.status, reply.error));
    }
    return reply.body;
  }

 private:
  cqrs::core::http_endpoint to_;
  cqrs::core::https_client client_;
};

provider::client_config config_for(const options& o) {
  provider::client_config c;
  c.url = o.url;
  c.ca_file = o.ca_file;
  c.resilience.time_limit.call_timeout = 2000ms;
  c.resilience.breaker.wait_in_open = 200ms;
  c.resilience.retry.initial_backoff = 5ms;
  c.resilience.retry.max_backoff = 20ms;
  return c;
}

std::uint64_t counter(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find(series + " ");
  return at == std::string::npos ? 0 : std::stoull(metrics.substr(at + series.size() + 1));
}

void lost_answers(const options& o, const admin& provider_admin, const cqrs::core::logger& log) {
  provider::provider_client client(config_for(o), log);
  provider_admin.call("DELETE", "/_admin/ledger");
  provider_admin.call("PUT", "/_admin/faults", fmt::format(R"({{"lose_answer_rate": {}, "seed": 7}})", o.lose_rate));
  const cqrs::schemas::money amount{2500, cqrs::schemas::currency_code("EUR")};
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t unsettled = 0;
  for (std::uint64_t i = 0; i < o.payments; ++i) {
    const auto payment = fmt::format("payment-bench-{}", i);
    bool settled = false;
    for (int round = 0; round < 10 && !settled; ++round) {
      settled = std::holds_alternative<provider::charge_answer>(
          client.charge(payment, amount, "tok_ok", provider::charge_key(payment)));
      if (!settled && client.resilience().breaker().state() != res::circuit_state::closed) std::this_thread::sleep_for(250ms);
    }
    if (!settled) ++unsettled;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  provider_admin.call("PUT", "/_admin/faults", "{}");
  std::map<std::string, std::uint64_t> charges;
  const auto ledger = boost::json::parse(provider_admin.call("GET", "/_admin/ledger"));
  for (const auto& entry : ledger.at("charges").as_array()) {
    ++charges[std::string(entry.at("payment_id").as_string())];
  }
  std::uint64_t most = 0;
  for (const auto& [payment, count] : charges) most = std::max(most, count);
  const auto metrics = client.metrics_text();
  const std::string name = R"(name="payment_provider")";
  print_result("fault_payments", o.payments);
  print_result("fault_calls", counter(metrics, "cqrs_resilience_calls_total{" + name + R"(,outcome="successful"})") +
                                  counter(metrics, "cqrs_resilience_calls_total{" + name + R"(,outcome="failed"})"));
  print_result("fault_retries", counter(metrics, "cqrs_resilience_retries_total{" + name + R"(,attempt="2"})") +
                                    counter(metrics, "cqrs_resilience_retries_total{" + name + R"(,attempt="3"})"));
  print_result("fault_unsettled", unsettled);
  print_result("charges_per_payment_max", most);
  print_result("fault_run_ms", static_cast<std::uint64_t>(took.count()));
}

void failing_provider(const options& o, const admin& provider_admin, const cqrs::core::logger& log) {
  provider::provider_client client(config_for(o), log);
  const cqrs::schemas::money amount{100, cqrs::schemas::currency_code("EUR")};
  std::uint64_t opens = 0, closes = 0, not_permitted = 0, n = 0;
  auto last = res::circuit_state::closed;
  const auto observe = [&] {
    const auto now = client.resilience().breaker().state();
    if (now != last && now == res::circuit_state::open) ++opens;
    if (now != last && now == res::circuit_state::closed) ++closes;
    last = now;
  };
  for (int flap = 0; flap < o.flaps; ++flap) {
    for (const bool failing : {true, false}) {
      provider_admin.call("PUT", "/_admin/faults", failing ? R"({"error_rate": 1})" : "{}");
      const auto until = std::chrono::steady_clock::now() + 600ms;
      while (std::chrono::steady_clock::now() < until) {
        const auto payment = fmt::format("payment-flap-{}", n++);
        const auto result = client.charge(payment, amount, "tok_ok", provider::charge_key(payment));
        if (const auto* failed = std::get_if<provider::transient>(&result); failed != nullptr && failed->not_permitted) {
          ++not_permitted;
          std::this_thread::sleep_for(20ms);
        }
        observe();
      }
    }
  }
  provider_admin.call("PUT", "/_admin/faults", "{}");
  print_result("fault_opens", opens);
  print_result("fault_closes", closes);
  print_result("fault_not_permitted", not_permitted);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  po::options_description flags("cqrs-provider-fault-bench");
  flags.add_options()("help", "this text")("url", po::value(&o.url)->required(), "the provider's https:// URL")(
      "ca-file", po::value(&o.ca_file)->required(), "the CA of its certificate")(
      "payments", po::value(&o.payments), "payments of the lost-answer run")(
      "lose-rate", po::value(&o.lose_rate), "share of answers lost")("flaps", po::value(&o.flaps), "failing/healthy rounds");
  try {
    po::variables_map given;
    po::store(po::parse_command_line(argc, argv, flags), given);
    if (given.count("help") != 0) {
      std::cout << flags;
      return 0;
    }
    po::notify(given);
    const cqrs::core::logger log("provider-fault-bench", cqrs::core::log_level::error);
    const admin provider_admin(o);
    lost_answers(o, provider_admin, log);
    failing_provider(o, provider_admin, log);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cqrs-provider-fault-bench: " << e.what() << "\n";
    return 1;
  }
}
