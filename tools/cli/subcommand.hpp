#pragma once

// The operators' command line is a set of subcommands; each declares its own settings so that
// `cqrs SUBCOMMAND --help` documents exactly what it reads.

#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace cqrs::tools::cli {

struct subcommand {
  std::string name;
  std::string summary;
  std::vector<core::setting_spec> settings;
  // Returns the process exit status; expected failures print a message and return non-zero.
  std::function<int(const core::settings_source&)> run;
  // Options that may be given more than once (`--role a --role b`); main.cpp joins their values
  // with commas, since program_options refuses a repeated option.
  std::vector<std::string> repeatable{};
};

subcommand migrate_subcommand();
subcommand config_subcommand();
subcommand replay_subcommand();
subcommand state_subcommand();
subcommand rebuild_subcommand();
subcommand projections_subcommand();
subcommand projector_subcommand();
subcommand dead_letters_subcommand();
subcommand token_subcommand();
subcommand keys_subcommand();
subcommand users_subcommand();
subcommand status_subcommand();
subcommand processes_subcommand();

}  // namespace cqrs::tools::cli
