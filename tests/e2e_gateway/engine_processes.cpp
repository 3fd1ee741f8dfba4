#include "tests/e2e_gateway/engine_processes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "gateway/jwt.hpp"

extern char** environ;

namespace cqrs::tests {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::string build_dir() {
  const char* dir = std::getenv("CQRS_BUILD_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "build";
}

// The current environment with `extra` set on top, as "NAME=value" strings.
std::vector<std::string> merged_environment(const environment& extra) {
  std::map<std::string, std::string> all;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string::npos) all[text.substr(0, eq)] = text.substr(eq + 1);
  }
  for (const auto& [name, value] : extra) all[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : all) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& texts) {
  std::vector<char*> out;
  for (auto& text : texts) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// A free port below the kernel's ephemeral range (like tools/lib/common.sh): a port the kernel
// handed out for binding 0 can be taken by an outgoing connection of the relay or projector,
// started meanwhile, before the gateway binds it.
bool can_bind(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

std::uint16_t free_port() {
  int low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  if (low <= 12000) low = 60000;
  std::random_device device;
  std::uniform_int_distribution<int> pick(10000, low - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(device));
    if (can_bind(port)) return port;
  }
  throw std::runtime_error("no free port");
}

std::string random_text(std::size_t length) {
  std::random_device device;
  std::mt19937_64 generator(static_cast<std::uint64_t>(device()) << 32 | device());
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string text;
  for (std::size_t i = 0; i < length; ++i) text.push_back(alphabet[generator() % 36]);
  return text;
}

// The newest position in the log, as a token: the relay starts there instead of republishing
// every other suite's events.
std::string log_head() {
  pqxx::connection connection(stack_env("CQRS_PG_URL"));
  pqxx::work tx(connection);
  const auto rows = tx.exec(
      "SELECT lpad(to_hex((xid::text)::bigint), 16, '0') || lpad(to_hex(seq), 16, '0') FROM events "
      "ORDER BY xid DESC, seq DESC LIMIT 1");
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

engine_processes* started = nullptr;

}  // namespace

// --- child_process ---

child_process::child_process(std::string name, std::vector<std::string> argv, const environment& extra_env,
                             std::string log_path)
    : name_(std::move(name)), argv_(std::move(argv)), extra_env_(extra_env), log_path_(std::move(log_path)) {
  spawn();
}

void child_process::spawn() {
  auto env_texts = merged_environment(extra_env_);
  auto envp = c_strings(env_texts);
  auto args_texts = argv_;
  auto args = c_strings(args_texts);
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid_ < 0) throw std::runtime_error("fork failed for " + name_);
}

bool child_process::respawn_if_exited() {
  if (running()) return false;
  spawn();
  return true;
}

child_process::~child_process() { stop(); }

bool child_process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool child_process::signal(int signal) { return running() && ::kill(pid_, signal) == 0; }

void child_process::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = clock_type::now() + grace;
  while (clock_type::now() < deadline) {
    if (!running()) return;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string child_process::log_tail(std::size_t lines) const {
  std::ifstream in(log_path_);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (last.size() > lines) last.pop_front();
  }
  std::string text;
  for (const auto& line : last) text += "  " + line + "\n";
  return text;
}

// --- settings ---

const std::string& run_id() {
  static const std::string id = random_text(10);
  return id;
}

std::string stack_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set: run the suite through tools/test");
  }
  return value;
}

// --- engine_processes ---

engine_processes& engine_processes::shared() {
  static std::unique_ptr<engine_processes> instance;
  static std::string failure;
  if (!failure.empty()) throw std::runtime_error(failure);
  if (!instance) {
    try {
      instance.reset(new engine_processes());
      started = instance.get();
    } catch (const std::exception& e) {
      failure = fmt::format("the engine did not start: {}", e.what());
      throw std::runtime_error(failure);
    }
  }
  return *instance;
}

engine_processes::engine_processes()
    : log_dir_(fmt::format("{}/e2e-gateway-{}", stack_env("CQRS_STACK_DIR"), run_id())),
      secret_(random_text(40)),
      port_(free_port()),
      http_("127.0.0.1", port_, stack_env("CQRS_TLS_CA_FILE")) {
  ::mkdir(log_dir_.c_str(), 0755);
  start_relay();
  start_projector();
  start_gateway();
  wait_until_ready();
  warm_up();
}

engine_processes::~engine_processes() {
  started = nullptr;
  // The gateway first (it stops taking requests), then the projector, then the relay.
  while (!children_.empty()) children_.pop_back();
}

bool engine_processes::signal_projector(int signal) {
  for (const auto& child : children_) {
    if (child->name() == "projector") return child->signal(signal);
  }
  return false;
}

void engine_processes::start_relay() {
  children_.push_back(std::make_unique<child_process>(
      "relay", std::vector<std::string>{build_dir() + "/commands/relay/cqrs-relay"},
      environment{{"CQRS_RELAY_NAME", "gw" + run_id()}, {"CQRS_RELAY_START_POSITION", log_head()}},
      log_dir_ + "/relay.log"));
}

void engine_processes::start_projector() {
  children_.push_back(std::make_unique<child_process>(
      "projector", std::vector<std::string>{build_dir() + "/tools/cli/cqrs", "projector"},
      environment{{"CQRS_PROJECTOR_GROUP", "gw" + run_id()}, {"CQRS_PROJECTION_SCOPE", ""}},
      log_dir_ + "/projector.log"));
}

environment engine_processes::gateway_environment(std::uint16_t port) const {
  return {{"CQRS_HTTP_HOST", "127.0.0.1"},
          {"CQRS_HTTP_PORT", std::to_string(port)},
          {"CQRS_JWT_SECRET", secret_},
          {"CQRS_RELAY_NAME", "gw" + run_id()},
          // min_position reads are checked for their answers, not their speed: a loaded
          // machine must not turn a slow cross-stream proof into a 503.
          {"CQRS_CONSISTENCY_WAIT_MS", "10000"}};
}

void engine_processes::start_gateway() {
  children_.push_back(std::make_unique<child_process>("gateway",
                                                      std::vector<std::string>{build_dir() + "/gateway/cqrs-gateway"},
                                                      gateway_environment(port_), log_dir_ + "/gateway.log"));
}

extra_gateway::extra_gateway(const engine_processes& engine, const std::string& name, const environment& settings)
    : port_(free_port()), http_("127.0.0.1", port_, stack_env("CQRS_TLS_CA_FILE")) {
  auto env = engine.gateway_environment(port_);
  env.insert(env.end(), settings.begin(), settings.end());  // later entries win
  process_ = std::make_unique<child_process>(name, std::vector<std::string>{build_dir() + "/gateway/cqrs-gateway"},
                                             env, engine.log_dir_ + "/" + name + ".log");
  const auto deadline = clock_type::now() + 30s;
  while (clock_type::now() < deadline) {
    if (!process_->running()) throw std::runtime_error(fmt::format("{} exited at start:\n{}", name, process_->log_tail()));
    try {
      if (http_.get("/readyz").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error(fmt::format("{} did not answer /readyz 200 within 30 s:\n{}", name, process_->log_tail()));
}

extra_gateway::~extra_gateway() = default;

void engine_processes::wait_until_ready() {
  const auto deadline = clock_type::now() + 60s;
  std::string last = "no answer";
  while (clock_type::now() < deadline) {
    for (auto& child : children_) {
      if (!child->running()) {
        throw std::runtime_error(fmt::format("{} exited at start:\n{}", child->name(), child->log_tail()));
      }
    }
    try {
      const auto answer = http_.get("/readyz");
      if (answer.status == 200) return;
      last = describe(answer);
    } catch (const std::exception& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error(fmt::format("/readyz did not answer 200 within 60 s: {}\n{}", last, diagnostics()));
}

// One product through the whole pipeline before the first test: the projector has joined its
// group and the relay has published, so "read your write at once" measures the engine, not
// start-up. Failures here are left for the tests to report.
void engine_processes::warm_up() {
  try {
    const auto created = http_.post(
        "/v1/products",
        fmt::format(R"({{"sku":"WARM-{}","name":"Warm-up","description":"","price":{{"amount":1,"currency":"EUR"}},"stock":1}})",
                    std::chrono::steady_clock::now().time_since_epoch().count()),
        bearer(admin_token()));
    if (created.status != 201) return;
    const auto body = created.json().as_object();
    const std::string id(body.at("id").as_string());
    const std::string position(body.at("position").as_string());
    const auto deadline = clock_type::now() + 60s;
    while (clock_type::now() < deadline) {
      if (http_.get("/v1/products/" + id + "?min_position=" + position).status == 200) return;
      std::this_thread::sleep_for(200ms);
    }
  } catch (const std::exception&) {
  }
}

std::string engine_processes::token(const std::string& subject, const std::vector<std::string>& roles,
                                    std::chrono::seconds ttl) const {
  gateway::auth_config config;
  config.jwt_secret = secret_;
  return gateway::jwt_verifier(config).sign({subject, roles, ttl});
}

std::string engine_processes::diagnostics() const {
  std::string text = fmt::format("logs in {}\n", log_dir_);
  for (const auto& child : children_) text += fmt::format("--- {} (last lines)\n{}", child->name(), child->log_tail(12));
  return text;
}

std::vector<std::string> engine_processes::revive() {
  std::vector<std::string> names;
  for (auto& child : children_) {
    if (child->respawn_if_exited()) names.push_back(child->name());
  }
  return names;
}

// --- the store ---

std::int64_t events_in_store() {
  pqxx::connection connection(stack_env("CQRS_PG_URL"));
  pqxx::work tx(connection);
  return tx.exec1("SELECT count(*) FROM events")[0].as<std::int64_t>();
}

// --- redis_outage ---

namespace {

std::string redis_dir() { return stack_env("CQRS_STACK_DIR") + "/redis"; }

std::string redis_port() {
  const auto url = stack_env("CQRS_REDIS_URL");  // redis://127.0.0.1:PORT/0
  const auto colon = url.rfind(':');
  const auto slash = url.find('/', colon);
  return url.substr(colon + 1, slash == std::string::npos ? std::string::npos : slash - colon - 1);
}

bool redis_answers() {
  return std::system(fmt::format("redis-cli -h 127.0.0.1 -p {} ping >/dev/null 2>&1", redis_port()).c_str()) == 0;
}

}  // namespace

redis_outage::redis_outage() {
  std::ifstream in(redis_dir() + "/redis.pid");
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) throw std::runtime_error("no Redis pid file in " + redis_dir());
  ::kill(pid, SIGTERM);
  const auto deadline = clock_type::now() + 10s;
  while (clock_type::now() < deadline && (::kill(pid, 0) == 0 || redis_answers())) std::this_thread::sleep_for(50ms);
  if (redis_answers()) throw std::runtime_error("Redis still answers after SIGTERM");
}

// The same command line as tools/lib/common.sh start_redis, so stop_stack finds it by its pid file.
redis_outage::~redis_outage() {
  const auto dir = redis_dir();
  const auto command = fmt::format(
      "redis-server --bind 127.0.0.1 --port {} --save '' --appendonly no --daemonize yes --dir {} "
      "--pidfile {}/redis.pid --logfile {}/redis.log >/dev/null 2>&1",
      redis_port(), dir, dir, dir);
  for (int attempt = 0; attempt < 3 && !redis_answers(); ++attempt) {
    if (std::system(command.c_str()) != 0) continue;
    const auto deadline = clock_type::now() + 10s;
    while (clock_type::now() < deadline && !redis_answers()) std::this_thread::sleep_for(50ms);
  }
}

// --- failing tests print the engine's logs ---

namespace {

struct engine_logs_on_failure : doctest::IReporter {
  explicit engine_logs_on_failure(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (!stats.testCaseSuccess && started != nullptr) std::fprintf(stderr, "%s", started->diagnostics().c_str());
  }
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("engine_logs_on_failure", 1, engine_logs_on_failure);

}  // namespace

}  // namespace cqrs::tests
