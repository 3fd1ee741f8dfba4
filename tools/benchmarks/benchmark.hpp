#pragma once

// A benchmark is a subcommand of cqrs-bench: `cqrs-bench NAME [--flag value ...]`. It measures
// the engine's side only and prints its figures as `RESULT <key> <value>` lines on stdout
// (result_lines.hpp), which tools/bench parses and sets against the raw baseline.

#include <functional>
#include <string>
#include <vector>

namespace cqrs::tools::benchmarks {

struct benchmark {
  std::string name;
  std::string summary;
  // Takes the arguments after NAME (argv[0] is NAME); returns the process exit status.
  std::function<int(int argc, char** argv)> run;
};

benchmark append_benchmark();
benchmark resilience_benchmark();
benchmark auth_benchmark();

}  // namespace cqrs::tools::benchmarks
