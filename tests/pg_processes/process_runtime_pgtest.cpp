// The process runtime against PostgreSQL, with the small test process of test_process.hpp: events
// are handed to the runtime as the consumer hands them, and workers are run round by round, so
// that a crash can be placed between any two steps (a runtime dropped and a new one made).

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
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
    options.handled_retention = 1h;
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

  // The process's handled-event rows (versions per stream) and its pruned versions, as text.
  std::pair<std::size_t, std::string> handled(const std::string& id) {
    pqxx::work tx(admin.get());
    const auto rows = tx.exec_params1(
        "SELECT (SELECT count(*) FROM process_handled h WHERE h.process_type = $1 AND h.process_id = $2), "
        "handled_through::text FROM process_instances WHERE process_type = $1 AND process_id = $2",
        test_process_type(), run_id() + "_" + id);
    return {rows[0].as<std::size_t>(), rows[1].as<std::string>()};
  }

  // Makes the process's last change older than the runtime's retention (an hour).
  void age(const std::string& id) {
    execute("UPDATE process_instances SET updated_at = now() - interval '2 hours' WHERE process_type = '" +
            test_process_type() + "' AND process_id = '" + run_id() + "_" + id + "'");
  }

  // Hands the events over and carries out what they ask for, then lets the process finish: its
  // deadline (2 s) fires last.
  void run_to_finish(rt::process_runtime& rt, const std::string& id, const std::vector<core::recorded_event>& events) {
    for (const auto& e : events) rt.handle(e);
    work(rt);
    REQUIRE(eventually([&] {
      work(rt);
      return detail(id).process.finished;
    }, 10s));
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

TEST_CASE_FIXTURE(fixture, "a finished process's handled records are pruned after the retention; redelivered events still change nothing") {
  const auto started = append("prune", "ptest.started", sku_for("P1"));
  const auto effect = append("prune", "ptest.effect", "0");
  auto rt = runtime(2s);
  run_to_finish(*rt, "prune", {started, effect});
  CHECK(handled("prune") == std::pair<std::size_t, std::string>{2, "{}"});
  rt::process_store worker(pg_url());
  CHECK(rt->prune_once(worker) == 0);  // finished, but within the retention
  CHECK(handled("prune").first == 2);

  age("prune");
  CHECK(rt->prune_once(worker) == 1);
  const auto stream = "ptest-" + run_id() + "_prune";
  CHECK(handled("prune") == std::pair<std::size_t, std::string>{0, fmt::format("{{\"{}\": 2}}", stream)});
  CHECK(rt->prune_once(worker) == 0);  // nothing new to prune

  // Both events again, as Kafka redelivers them: nothing changes, nothing is asked or sent.
  const auto before = detail("prune");
  const auto calls = counter->calls.load();
  rt->handle(started);
  rt->handle(effect);
  CHECK(metrics.events_duplicate.value() == 2);
  CHECK(work(*rt) == 0);
  const auto after = detail("prune");
  CHECK(after.process.step == before.process.step);
  CHECK(after.process.finished);
  CHECK(after.process.updated_at == before.process.updated_at);
  CHECK(after.state == before.state);
  CHECK(after.actions.size() == before.actions.size());
  CHECK(after.deadlines.empty());
  CHECK(counter->calls == calls);
  CHECK(product("prune").size() == 2);  // created, restocked by the deadline: once each
  CHECK(handled("prune").first == 0);

  // A new event of the finished process is handled as ever, and only once.
  const auto later = append("prune", "ptest.effect", "0");
  rt->handle(later);
  CHECK(detail("prune").process.step == "effecting");
  rt->handle(later);
  CHECK(metrics.events_duplicate.value() == 3);
  CHECK(handled("prune").first == 1);
}

TEST_CASE_FIXTURE(fixture, "pruning stops at a gap in a stream's versions: the event never handled is handled later") {
  const auto started = append("gap", "ptest.started", sku_for("G1"));
  const auto skipped = append("gap", "ptest.effect", "0");
  const auto third = append("gap", "ptest.effect", "0");
  auto rt = runtime(2s);
  run_to_finish(*rt, "gap", {started, third});  // version 2 never reached the runtime
  age("gap");
  rt::process_store worker(pg_url());
  CHECK(rt->prune_once(worker) == 1);
  const auto stream = "ptest-" + run_id() + "_gap";
  CHECK(handled("gap") == std::pair<std::size_t, std::string>{1, fmt::format("{{\"{}\": 1}}", stream)});
  rt->handle(third);
  rt->handle(started);
  CHECK(metrics.events_duplicate.value() == 2);
  rt->handle(skipped);  // not taken for handled: the process reacts to it
  CHECK(metrics.events_duplicate.value() == 2);
  CHECK(detail("gap").process.step == "effecting");
  CHECK(handled("gap").first == 2);
}

// What tells an idle worker how long to sleep. Nothing pending anywhere must read as "nothing"
// (the worker then sleeps its whole idle poll), not as "due now", or every worker polls
// PostgreSQL every 20 ms on an idle engine. The earlier tests' leftovers are cleared first: this
// binary's tests run one after the other.
TEST_CASE_FIXTURE(fixture, "with nothing pending a worker is told nothing is due; a deadline is due in its time") {
  execute("DELETE FROM process_deadlines; UPDATE process_actions SET status = 'cancelled' WHERE status = 'pending'");
  rt::process_store worker(pg_url());
  CHECK_FALSE(worker.next_due_in().has_value());

  auto rt = runtime(3600s);
  rt->handle(append("idle", "ptest.started", sku_for("I1")));
  work(*rt);
  REQUIRE(detail("idle").deadlines.size() == 1);
  const auto next = worker.next_due_in();
  REQUIRE(next.has_value());
  CHECK(*next > 3500s);
  CHECK(*next <= 3600s);

  execute("UPDATE process_deadlines SET due_at = now() - interval '1 minute'");
  CHECK(worker.next_due_in() == std::chrono::milliseconds{0});  // overdue: at once, never negative
}

}  // namespace cqrs::tests::processes
