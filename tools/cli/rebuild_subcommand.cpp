// cqrs rebuild: rebuild a projection (or all, from one read of the log) from the event store into
// a shadow model, switch readers to it atomically, drop the old one (projections/rebuild.hpp).
// Progress as a bar on a terminal, as JSON lines otherwise.

#include <cstdio>
#include <iostream>
#include <map>
#include <vector>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>
#include <unistd.h>

#include "projections/catalog.hpp"
#include "projections/rebuild.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

// The events each target's category holds, by projection name: the progress's 100 %.
std::map<std::string, std::int64_t> category_events(const std::string& pg_url,
                                                   const std::vector<projections::projection_target*>& targets) {
  pqxx::connection connection(pg_url);
  pqxx::work tx(connection);
  std::map<std::string, std::int64_t> by_category;
  std::map<std::string, std::int64_t> by_projection;
  for (const auto* target : targets) {
    const auto& info = target->info();
    if (!by_category.contains(info.category)) {
      by_category[info.category] =
          tx.exec_params("SELECT count(*) FROM events WHERE category = $1", info.category)[0][0].as<std::int64_t>();
    }
    by_projection[info.name] = by_category[info.category];
  }
  return by_projection;
}

// A progress report names one projection or those sharing a read ("a,b"), which share a category.
std::int64_t total_for(const std::map<std::string, std::int64_t>& totals, const std::string& reported) {
  const auto found = totals.find(reported.substr(0, reported.find(',')));
  return found == totals.end() ? 0 : found->second;
}

void show_progress(const std::string& name, const projections::rebuild_progress& p, std::int64_t total, bool bar) {
  const double rate = p.seconds > 0 ? static_cast<double>(p.events) / p.seconds : 0;
  if (!bar) {
    std::cout << boost::json::serialize(boost::json::object{{"projection", name},
                                                            {"phase", p.phase},
                                                            {"events", p.events},
                                                            {"total", total},
                                                            {"events_per_s", rate}})
              << "\n";
    return;
  }
  const double done = total > 0 ? std::min(1.0, static_cast<double>(p.events) / static_cast<double>(total)) : 1.0;
  const double eta = rate > 0 ? (static_cast<double>(total) - static_cast<double>(p.events)) / rate : 0;
  std::fprintf(stderr, "\r%-20s %-8s [%-30s] %5.1f%% %10.0f ev/s ETA %5.1fs", name.c_str(), p.phase.c_str(),
               std::string(static_cast<std::size_t>(done * 30), '#').c_str(), done * 100, rate, std::max(0.0, eta));
}

void dry_run(projections::projection_target& target, std::int64_t total) {
  const auto& info = target.info();
  const auto live = target.live_model();
  std::cout << fmt::format(
      "would rebuild {} ({}) from {} events of category '{}' into a new model ({}), switch readers "
      "from '{}' to it, then drop '{}'\n",
      info.name, projections::to_string(info.target), total, info.category,
      target.start_build(info.model_name("dry-run")) ? "bulk: one read, folded in memory, written at once"
                                                      : "event by event",
      live, live);
}

void print_report(const projections::rebuild_report& report) {
  std::cout << boost::json::serialize(boost::json::object{{"projection", report.projection},
                                                          {"done", true},
                                                          {"old_model", report.old_model},
                                                          {"new_model", report.new_model},
                                                          {"events", report.events},
                                                          {"seconds", report.seconds}})
            << "\n";
}

// Rebuilds `targets` together: one read of the log per category for all of that category.
int rebuild_targets(projections::runtime& rt, const std::vector<projections::projection_target*>& targets,
                    const core::settings_source& source) {
  const auto totals = category_events(source.url("CQRS_PG_URL", "", {"postgresql", "postgres"}), targets);
  if (source.boolean("CQRS_DRY_RUN", false)) {
    for (auto* target : targets) dry_run(*target, totals.at(target->info().name));
    return 0;
  }
  const bool bar = isatty(STDERR_FILENO) != 0;
  projections::rebuild_options options;
  options.batch = static_cast<std::size_t>(source.integer("CQRS_BATCH_SIZE", 2000, 1, 10000));
  options.on_progress = [&](const projections::rebuild_progress& p) {
    show_progress(p.projection, p, total_for(totals, p.projection), bar);
  };
  const auto reports = projections::rebuild_all(targets, rt.store(), options);
  if (bar) std::fputs("\n", stderr);
  for (const auto& report : reports) print_report(report);
  return 0;
}

int run_rebuild(const core::settings_source& source) {
  const auto name = source.raw("CQRS_PROJECTION");
  const bool all = source.boolean("CQRS_ALL", false);
  if (name.has_value() == all)
    throw core::config_error("command line", "give exactly one of a projection name, --all");
  projections::runtime rt(projections::load_runtime_settings(source));
  std::vector<projections::projection_target*> targets;
  if (all) {
    for (const auto& target : rt.targets().all()) targets.push_back(target.get());
    return rebuild_targets(rt, targets, source);
  }
  auto* target = rt.targets().find(*name);
  if (target == nullptr) {
    std::cerr << fmt::format("cqrs rebuild: no projection named '{}' (see `cqrs projections`)\n", *name);
    return 1;
  }
  targets.push_back(target);
  return rebuild_targets(rt, targets, source);
}

std::vector<core::setting_spec> specs() {
  auto all = projections::runtime_setting_specs();
  all.insert(all.end(), {{"CQRS_PROJECTION", "", "the projection to rebuild", core::spec_kind::positional},
                         {"CQRS_ALL", "", "rebuild every projection of every domain", core::spec_kind::flag},
                         {"CQRS_DRY_RUN", "", "say what would be done, change nothing", core::spec_kind::flag},
                         {"CQRS_BATCH_SIZE", "2000", "events per batch, 1..10000", core::spec_kind::option}});
  return all;
}

}  // namespace

subcommand rebuild_subcommand() {
  return {"rebuild",
          "rebuild projections from the event store without downtime (shadow model, atomic switch)",
          specs(), run_rebuild};
}

}  // namespace cqrs::tools::cli
