// The process runtime against PostgreSQL, with the small test process of test_process.hpp: events
// are handed to the runtime as the consumer hands them, and workers are run round by round, so
// that a crash can be placed between any two steps (a runtime dropped and a new one made).

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include <pqxx/pqxx>

#include "commands/processes/process_admin.hpp"
#include "core/pg_connection.hpp"
#include "tests/pg_processes/test_process.hpp"
#include "tests/support/pg_helpers.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::processes {

namespace {

using namespace std::chrono_literals;

struct fixture {
  core::metrics_registry registry;
  rt::processes_metrics metrics{registry};
  std::shared_ptr<effect_counter> counter = std::make_shared<effect_counter>();
  core::event_store store{[] {
    core::store_options options;
    options.url = pg_url();
    return options;
  }()};
  core::pg_connection admin{pg_url()};

  std::unique_ptr<rt::process_runtime> runtime(std::chrono::milliseconds timeout = 3600s, int max_attempts = 8) {
    rt::runtime_options options;
    options.pg_url = pg_url();
    options.retry.max_attempts = max_attempts;
    options.retry.backoff.initial_backoff = 1ms;
    options.retry.backoff.max_backoff = 5ms;
    std::vector<rt::registered_process> processes;
    processes.push_back(test_process(timeout, counter));
    return std::make_unique<rt::process_runtime>(options, std::move(processes), product_sender(),
                                                 core::logger("test", core::log_level::error), metrics);
  }

  // One worker's rounds until a round finds nothing due.
  std::size_t work(rt::process_runtime& runtime) {
    rt::process_store worker(pg_url(), runtime.options().retry);
    auto performers = runtime.make_performers();
    std::size_t total = 0;
    while (const auto done = runtime.work_once(worker, store, performers)) total += done;
    return total;
  }

  core::recorded_event append(const std::string& id, const std::string& type, const std::string& payload) {
    const auto stream = core::stream_id::parse("ptest-" + run_id() + "_" + id).value();
    core::event_metadata metadata;
    metadata.correlation_id = "corr-" + id;
    REQUIRE(store.append(stream, core::expected_version::any(), {{type, 1, payload, std::nullopt}}, metadata).ok());
    return whole_stream(store, stream).back();
  }

  std::vector<core::recorded_event> product(const std::string& id) {
    return whole_stream(store, core::stream_id::parse("product-" + run_id() + "_" + run_id() + "_" + id).value());
  }

  rt::process_detail detail(const std::string& id) {
    const auto found = rt::show_process(admin.get(), run_id() + "_" + id);
    REQUIRE(found.size() == 1);
    return found.front();
  }

  void execute(const std::string& sql) {
    pqxx::work tx(admin.get());
    tx.exec(sql);
    tx.commit();
  }
};

std::string sku_for(const std::string& id) {
  std::string sku = "PT-" + run_id() + "-" + id;
  std::transform(sku.begin(), sku.end(), sku.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return sku;
}

}  // namespace

TEST_CASE_FIXTURE(fixture, "a redelivered event changes nothing: one reaction, one command, one product") {
  const auto started = append("redeliver", "ptest.started", sku_for("R1"));
  auto rt = runtime();
  rt->handle(started);
  rt->handle(started);
  CHECK(work(*rt) == 1);
  rt->handle(started);  // after the command went out too
  CHECK(work(*rt) == 0);
  CHECK(product("redeliver").size() == 1);
  const auto d = detail("redeliver");
  REQUIRE(d.actions.size() == 1);
  CHECK(d.actions[0].status == "done");
  CHECK(d.actions[0].idempotency_key == test_process_type() + ":" + run_id() + "_redeliver:create");
  CHECK(metrics.events_duplicate.value() == 2);
}

TEST_CASE_FIXTURE(fixture, "a crash between commit and dispatch: the command goes out again with its key and applies once") {
  const auto started = append("crash", "ptest.started", sku_for("C1"));
  runtime()->handle(started);  // committed; the runtime dies before any worker ran
  auto restarted = runtime();
  CHECK(work(*restarted) == 1);
  const auto created = product("crash");
  REQUIRE(created.size() == 1);
  CHECK(created[0].metadata.correlation_id == "corr-crash");
  CHECK(created[0].metadata.causation_id == started.id.to_string());
  // A worker that sent the command and died before recording it: the lease runs out, the action
  // is taken again, and the pipeline answers from the key.
  execute("UPDATE process_actions SET status = 'pending', not_before = now(), leased_until = NULL "
          "WHERE process_type = '" + test_process_type() + "' AND process_id = '" + run_id() + "_crash'");
  CHECK(work(*runtime()) == 1);
  CHECK(product("crash").size() == 1);
  CHECK(detail("crash").actions[0].status == "done");
}

TEST_CASE_FIXTURE(fixture, "a deadline set before a restart fires after it, once") {
  const auto started = append("deadline", "ptest.started", sku_for("D1"));
  {
    auto before = runtime(300ms);
    before->handle(started);
    work(*before);
  }
  CHECK(detail("deadline").deadlines.size() == 1);
  auto after = runtime(300ms);
  CHECK(eventually([&] {
    work(*after);
    return product("deadline").size() == 2;
  }, 10s));
  work(*after);
  const auto d = detail("deadline");
  CHECK(d.process.step == "timed_out");
  CHECK(d.process.finished);
  CHECK(d.deadlines.empty());
  REQUIRE(product("deadline").size() == 2);
  CHECK(product("deadline").back().type == "product.restocked");
}

TEST_CASE_FIXTURE(fixture, "a failing effect is retried with backoff until it answers") {
  append("retry", "ptest.started", sku_for("E1"));
  auto rt = runtime();
  rt->handle(whole_stream(store, core::stream_id::parse("ptest-" + run_id() + "_retry").value()).front());
  rt->handle(append("retry", "ptest.effect", "2"));
  CHECK(eventually([&] {
    work(*rt);
    return detail("retry").process.step == "effect:ok";
  }, 10s));
  CHECK(counter->calls == 3);
  CHECK_FALSE(detail("retry").process.stuck);
}

TEST_CASE_FIXTURE(fixture, "an effect that outlasts its attempts leaves the process stuck; a retry resumes it") {
  auto rt = runtime(3600s, 3);
  rt->handle(append("stuck", "ptest.started", sku_for("S1")));
  rt->handle(append("stuck", "ptest.effect", "3"));
  CHECK(eventually([&] {
    work(*rt);
    return detail("stuck").process.stuck;
  }, 10s));
  const auto stuck = detail("stuck");
  CHECK(stuck.process.last_error.value_or("").find("gave up after 3 attempts") != std::string::npos);
  CHECK(stuck.actions.back().status == "failed");
  const auto listed = rt::list_processes(admin.get(), {.step = "effecting", .stuck_only = true, .limit = 1000, .after = std::nullopt});
  CHECK(std::any_of(listed.begin(), listed.end(), [](const auto& p) { return p.process_id == run_id() + "_stuck"; }));
  CHECK(work(*rt) == 0);  // a stuck process is left alone
  CHECK(rt::retry_process(admin.get(), run_id() + "_stuck") == 1);
  work(*rt);
  CHECK(detail("stuck").process.step == "effect:ok");
  CHECK_FALSE(detail("stuck").process.stuck);
  CHECK(rt::retry_process(admin.get(), "no-such-process") == std::nullopt);
}

}  // namespace cqrs::tests::processes
