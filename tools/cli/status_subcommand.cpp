// cqrs status: every resilience instance of the engine's processes (circuit breakers, bulkheads:
// core/resilience), read from the metrics each process writes (docs/resilience.md, "Seeing it"):
// the endpoints of CQRS_METRICS_URLS (a scaled stack lists every process's there: gateways over
// HTTPS, trusting CQRS_TLS_CA_FILE, the others over HTTP), and the files named by --metrics-files,
// else every $CQRS_STACK_DIR/engine/*.metrics of the dev stack (the gateway's, the relay's, the
// projector's, the saga workers'). One line per process and instance; a process read from its
// endpoint is not read again from its file.
//
// Only shows: an open breaker in one process is that process's business (it parks or refuses its
// own calls); no other process, the gateway's readiness included, depends on it.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/https_client.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// `name{a="x",b="y"} 1.5` (label values hold no quotes or commas in our series); nothing for
// comments and lines of another shape.
std::optional<sample> parse_line(const std::string& line) {
  if (line.empty() || line.front() == '#') return std::nullopt;
  sample s;
  const auto brace = line.find('{');
  const auto space = line.rfind(' ');
  if (space == std::string::npos) return std::nullopt;
  if (brace != std::string::npos && brace < space) {
    s.name = line.substr(0, brace);
    const auto close = line.find('}', brace);
    if (close == std::string::npos) return std::nullopt;
    std::stringstream labels(line.substr(brace + 1, close - brace - 1));
    std::string pair;
    while (std::getline(labels, pair, ',')) {
      const auto eq = pair.find('=');
      if (eq == std::string::npos || pair.size() < eq + 3) continue;
      s.labels[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
    }
  } else {
    s.name = line.substr(0, space);
  }
  try {
    s.value = std::stod(line.substr(space + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return s;
}

struct instance_view {
  std::string state = "-";
  std::optional<double> available, queued, rejected, failure_rate, not_permitted;
};

using process_view = std::map<std::string, instance_view>;  // by instance name

void take(process_view& view, const sample& s) {
  if (!s.name.starts_with("cqrs_resilience_")) return;
  const auto name = s.labels.find("name");
  if (name == s.labels.end()) return;
  auto& i = view[name->second];
  const auto label = [&](const char* key) {
    const auto found = s.labels.find(key);
    return found == s.labels.end() ? std::string() : found->second;
  };
  if (s.name == "cqrs_resilience_circuit_state" && s.value == 1) i.state = label("state");
  if (s.name == "cqrs_resilience_bulkhead_available") i.available = s.value;
  if (s.name == "cqrs_resilience_bulkhead_queued") i.queued = s.value;
  if (s.name == "cqrs_resilience_bulkhead_rejected_total") i.rejected = s.value;
  if (s.name == "cqrs_resilience_failure_rate") i.failure_rate = s.value;
  if (s.name == "cqrs_resilience_calls_total" && label("outcome") == "not_permitted") i.not_permitted = s.value;
}

process_view read_process(std::istream& in) {
  process_view view;
  std::string line;
  while (std::getline(in, line)) {
    if (const auto s = parse_line(line)) take(view, *s);
  }
  return view;
}

std::vector<std::string> split_list(const std::string& listed) {
  std::vector<std::string> items;
  std::stringstream names(listed);
  std::string name;
  while (std::getline(names, name, ',')) {
    if (!name.empty()) items.push_back(name);
  }
  return items;
}

std::string first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// The process a metrics URL belongs to: the dev stack names each in engine/NAME.metrics_url;
// else the URL's host and port.
std::string process_of(const std::string& url, const std::string& stack) {
  std::error_code error;
  if (!stack.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(stack) / "engine", error)) {
      if (entry.path().extension() == ".metrics_url" && first_line(entry.path()) == url) return entry.path().stem().string();
    }
  }
  const auto endpoint = core::parse_http_endpoint(url);
  return endpoint.host + ":" + endpoint.port;
}

// GET `url`: its metrics text, or nothing when it does not answer 200 within 5 s (said on stderr).
std::optional<std::string> fetch_metrics(const core::https_client& client, const std::string& url) {
  try {
    const auto endpoint = core::parse_http_endpoint(url);
    const auto target = endpoint.base_path.empty() ? std::string("/") : endpoint.base_path;
    const auto reply = client.send({endpoint.tls, endpoint.host, endpoint.port, ""}, {"GET", target, {}, {}},
                                   std::chrono::steady_clock::now() + std::chrono::seconds(5));
    if (reply.result == core::http_reply::outcome::answered && reply.status == 200) return reply.body;
    std::cerr << fmt::format("cqrs status: {} answered no metrics ({} {}{})\n", url, core::to_string(reply.result),
                             reply.status, reply.error.empty() ? "" : ": " + reply.error);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("cqrs status: {}: {}\n", url, e.what());
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> metrics_files(const core::settings_source& source) {
  std::vector<std::filesystem::path> files;
  const auto listed = source.text("CQRS_METRICS_FILES", "");
  if (!listed.empty()) {
    for (const auto& name : split_list(listed)) files.emplace_back(name);
    return files;
  }
  const auto stack = source.text("CQRS_STACK_DIR", "");
  if (stack.empty()) {
    if (!source.text("CQRS_METRICS_URLS", "").empty()) return files;
    throw core::config_error("CQRS_METRICS_FILES", "give the metrics files or URLs (or run on a dev stack: CQRS_STACK_DIR)");
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(stack) / "engine", error)) {
    if (entry.path().extension() == ".metrics") files.push_back(entry.path());
  }
  std::ranges::sort(files);
  return files;
}

std::string number(const std::optional<double>& value) {
  if (!value) return "-";
  if (*value < 0) return "-";  // a rate over too few calls
  return fmt::format("{:g}", *value);
}

void print_process(const std::string& process, const process_view& view) {
  for (const auto& [name, i] : view) {
    std::cout << fmt::format("{:<18}  {:<20}  {:<9}  {:>9}  {:>6}  {:>8}  {:>13}  {:>12}\n", process, name, i.state,
                             number(i.available), number(i.queued), number(i.rejected), number(i.not_permitted),
                             number(i.failure_rate));
  }
}

int run_status(const core::settings_source& source) {
  const auto files = metrics_files(source);
  const auto urls = split_list(source.text("CQRS_METRICS_URLS", ""));
  const auto stack = source.text("CQRS_STACK_DIR", "");
  std::cout << fmt::format("{:<18}  {:<20}  {:<9}  {:>9}  {:>6}  {:>8}  {:>13}  {:>12}\n", "process", "instance", "state",
                           "available", "queued", "rejected", "not_permitted", "failure_rate");
  int unreadable = 0;
  std::vector<std::string> shown;  // processes read from their endpoint
  if (!urls.empty()) {
    const core::https_client client({source.text("CQRS_TLS_CA_FILE", "")});
    for (const auto& url : urls) {
      const auto text = fetch_metrics(client, url);
      if (!text) {
        ++unreadable;
        continue;
      }
      std::istringstream in(*text);
      shown.push_back(process_of(url, stack));
      print_process(shown.back(), read_process(in));
    }
  }
  for (const auto& file : files) {
    if (std::ranges::find(shown, file.stem().string()) != shown.end()) continue;
    if (!std::filesystem::exists(file)) {
      std::cerr << fmt::format("cqrs status: no metrics file {}\n", file.string());
      ++unreadable;
      continue;
    }
    std::ifstream in(file);
    print_process(file.stem().string(), read_process(in));
  }
  return unreadable == 0 ? 0 : 1;
}

}  // namespace

subcommand status_subcommand() {
  return {"status",
          "show every resilience instance (breaker state, bulkhead slots) of the engine's processes",
          {{"CQRS_METRICS_FILES", "", "metrics files to read, comma-separated; default: $CQRS_STACK_DIR/engine/*.metrics",
            core::spec_kind::option},
           {"CQRS_METRICS_URLS", "",
            "metrics endpoints to read too, comma-separated http(s) URLs (build/stack.env of a scaled stack lists every process's)"},
           {"CQRS_TLS_CA_FILE", "", "PEM file of the CA the https endpoints' certificates chain to (empty: the system's)"},
           {"CQRS_STACK_DIR", "", "the dev stack's directory (build/stack.env sets it)"}},
          run_status};
}

}  // namespace cqrs::tools::cli
