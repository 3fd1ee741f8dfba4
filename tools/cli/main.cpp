// cqrs: the operators' command line. `cqrs --help` lists the subcommands; every subcommand has
// its own --help. Settings come from the environment (tools/cqrs also loads build/stack.env) and
// flags override them.

#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
          cqrs::tools::cli::projector_subcommand(), cqrs::tools::cli::dead_letters_subcommand(),
          cqrs::tools::cli::token_subcommand(),
          cqrs::tools::cli::keys_subcommand(), cqrs::tools::cli::users_subcommand(),
          cqrs::tools::cli::status_subcommand(), cqrs::tools::cli::processes_subcommand()};
}

void print_usage(std::ostream& out, const std::vector<subcommand>& subcommands) {
  out << "Usage: cqrs SUBCOMMAND [--flag value ...]\n\nSubcommands:\n";
  for (const auto& sub : subcommands) out << fmt::format("  {:<12} {}\n", sub.name, sub.summary);
  out << "\nRun `cqrs SUBCOMMAND --help` for its settings.\n";
}

struct option_value {
  std::string flag;  // "--role"
  std::string value;
};

// A repeatable option at args[i] ("--role x" or "--role=x"), with `i` moved onto its value.
std::optional<option_value> repeatable_at(const std::vector<std::string>& args, std::size_t& i,
                                          const std::vector<std::string>& repeatable) {
  for (const auto& env : repeatable) {
    const auto flag = "--" + cqrs::core::flag_name(env);
    if (args[i] == flag && i + 1 < args.size()) return option_value{flag, args[++i]};
    if (args[i].starts_with(flag + "=")) return option_value{flag, args[i].substr(flag.size() + 1)};
  }
  return std::nullopt;
}

// `--role a --role b` of a repeatable option becomes one `--role a,b`; args[0] is the program.
std::vector<std::string> join_repeated(const std::vector<std::string>& args, const std::vector<std::string>& repeatable) {
  std::vector<std::string> out;
  std::map<std::string, std::size_t> value_at;  // flag -> index of its joined value in `out`
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto option = i == 0 ? std::nullopt : repeatable_at(args, i, repeatable);
    if (!option) {
      out.push_back(args[i]);
    } else if (const auto at = value_at.find(option->flag); at != value_at.end()) {
      out[at->second] += "," + option->value;
    } else {
      out.push_back(option->flag);
      value_at.emplace(option->flag, out.size());
      out.push_back(std::move(option->value));
    }
  }
  return out;
}

int run_subcommand(const subcommand& sub, int argc, char** argv) {
  const auto args = join_repeated({argv, argv + argc}, sub.repeatable);
  std::vector<const char*> joined_argv;
  for (const auto& arg : args) joined_argv.push_back(arg.c_str());
  joined_argv.push_back(nullptr);
  const auto source = cqrs::core::settings_source::from_command_line(static_cast<int>(args.size()),
                                                                     joined_argv.data(), environ, sub.settings);
  if (source.help_requested()) {
    std::cout << cqrs::core::settings_help("cqrs " + sub.name, sub.summary, sub.settings);
    return 0;
  }
  try {
    return sub.run(source);
  } catch (const cqrs::core::config_error& e) {
    // Subcommands blame a spec by its key (CQRS_STREAM); the operator gave it as a flag or a
    // variable, and the message names what they typed.
    throw source.named(e);
  }
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
