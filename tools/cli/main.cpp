// cqrs: the operators' command line. `cqrs --help` lists the subcommands; every subcommand has
// its own --help. Settings come from the environment (tools/cqrs also loads build/stack.env) and
// flags override them.

#include <exception>
#include <iostream>
#include <string_view>

#include <fmt/format.h>

#include "core/config.hpp"
#include "tools/cli/subcommand.hpp"

extern char** environ;

namespace {

using cqrs::tools::cli::subcommand;

std::vector<subcommand> all_subcommands() {
  return {cqrs::tools::cli::migrate_subcommand(), cqrs::tools::cli::config_subcommand(),
          cqrs::tools::cli::replay_subcommand(),  cqrs::tools::cli::state_subcommand(),
          cqrs::tools::cli::rebuild_subcommand(), cqrs::tools::cli::projections_subcommand(),
          cqrs::tools::cli::projector_subcommand(), cqrs::tools::cli::dead_letters_subcommand()};
}

void print_usage(std::ostream& out, const std::vector<subcommand>& subcommands) {
  out << "Usage: cqrs SUBCOMMAND [--flag value ...]\n\nSubcommands:\n";
  for (const auto& sub : subcommands) out << fmt::format("  {:<12} {}\n", sub.name, sub.summary);
  out << "\nRun `cqrs SUBCOMMAND --help` for its settings.\n";
}

int run_subcommand(const subcommand& sub, int argc, char** argv) {
  const auto source = cqrs::core::settings_source::from_command_line(argc, argv, environ, sub.settings);
  if (source.help_requested()) {
    std::cout << cqrs::core::settings_help("cqrs " + sub.name, sub.summary, sub.settings);
    return 0;
  }
  return sub.run(source);
}

}  // namespace

int main(int argc, char** argv) {
  const auto subcommands = all_subcommands();
  const std::string_view name = argc > 1 ? argv[1] : "";
  if (name.empty() || name == "--help" || name == "-h" || name == "help") {
    print_usage(name.empty() ? std::cerr : std::cout, subcommands);
    return name.empty() ? 2 : 0;
  }
  for (const auto& sub : subcommands) {
    if (sub.name != name) continue;
    try {
      return run_subcommand(sub, argc - 1, argv + 1);
    } catch (const cqrs::core::config_error& e) {
      std::cerr << "cqrs " << sub.name << ": " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "cqrs " << sub.name << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << fmt::format("cqrs: unknown subcommand '{}'\n", name);
  print_usage(std::cerr, subcommands);
  return 2;
}
