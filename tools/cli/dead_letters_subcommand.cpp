// cqrs dead-letters: list, retry or discard events a projection could not apply.

#include <iostream>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "projections/catalog.hpp"
#include "projections/dead_letters.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

int list_letters(projections::dead_letter_store& letters, const core::settings_source& source) {
  const auto projection = source.raw("CQRS_PROJECTION");
  for (const auto& l : letters.list(projection, !source.boolean("CQRS_INCLUDE_CLOSED", false))) {
    std::cout << boost::json::serialize(boost::json::object{{"id", l.id},
                                                            {"projection", l.projection},
                                                            {"stream", l.stream_id},
                                                            {"version", l.stream_version},
                                                            {"log_position", l.log_position},
                                                            {"type", l.event_type},
                                                            {"error", l.error},
                                                            {"attempts", l.attempts},
                                                            {"status", l.status},
                                                            {"recorded_at", l.recorded_at}})
              << "\n";
  }
  return 0;
}

int report_retry(projections::retry_outcome outcome, std::int64_t id, const std::string& error) {
  switch (outcome) {
    case projections::retry_outcome::applied:
      std::cout << fmt::format("dead letter {} applied\n", id);
      return 0;
    case projections::retry_outcome::not_found:
      std::cerr << fmt::format("cqrs dead-letters: no dead letter {}\n", id);
      return 1;
    case projections::retry_outcome::not_open:
      std::cerr << fmt::format("cqrs dead-letters: dead letter {} is not open\n", id);
      return 1;
    case projections::retry_outcome::still_failing:
      std::cerr << fmt::format("cqrs dead-letters: dead letter {} still fails: {}\n", id, error);
      return 1;
  }
  return 1;
}

int retry_letter(projections::dead_letter_store& letters, std::int64_t id, const core::settings_source& source) {
  const auto letter = letters.find(id);
  if (!letter) return report_retry(projections::retry_outcome::not_found, id, "");
  projections::runtime rt(projections::load_runtime_settings(source));
  auto* target = rt.targets().find(letter->projection);
  if (target == nullptr) {
    std::cerr << fmt::format("cqrs dead-letters: projection '{}' is not known here\n", letter->projection);
    return 1;
  }
  std::string error;
  return report_retry(letters.retry(id, *target, rt.store(), error), id, error);
}

int run_dead_letters(const core::settings_source& source) {
  const auto action = source.text("CQRS_ACTION", "list");
  projections::dead_letter_store letters(source.url("CQRS_PG_URL", "", {"postgresql", "postgres"}));
  if (action == "list") return list_letters(letters, source);
  if (action != "retry" && action != "discard")
    throw core::config_error("CQRS_ACTION", "must be list, retry or discard");
  const auto id = source.integer("CQRS_ID", 0, 1, INT64_MAX);
  if (id == 0) throw core::config_error("CQRS_ID", "is required for " + action);
  if (action == "retry") return retry_letter(letters, id, source);
  if (letters.discard(id)) return (std::cout << fmt::format("dead letter {} discarded\n", id), 0);
  std::cerr << fmt::format("cqrs dead-letters: dead letter {} does not exist or is not open\n", id);
  return 1;
}

std::vector<core::setting_spec> specs() {
  auto all = projections::runtime_setting_specs();
  all.insert(all.end(),
             {{"CQRS_ACTION", "list", "list, retry or discard", core::spec_kind::positional},
              {"CQRS_ID", "", "the dead letter's id (retry, discard)", core::spec_kind::option},
              {"CQRS_PROJECTION", "", "list: only this projection's letters", core::spec_kind::option},
              {"CQRS_INCLUDE_CLOSED", "", "list: include retried and discarded letters", core::spec_kind::flag}});
  return all;
}

}  // namespace

subcommand dead_letters_subcommand() {
  return {"dead-letters",
          "list, retry or discard events a projection could not apply",
          specs(), run_dead_letters};
}

}  // namespace cqrs::tools::cli
