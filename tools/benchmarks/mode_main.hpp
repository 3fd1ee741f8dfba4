#pragma once

// The main() of the load drivers that take a mode first (`cqrs-visibility-bench MODE --flag ...`,
// `cqrs-orders-bench MODE ...`): usage without a mode (status 2), --help, the flags parsed with
// Boost.Program_options, and any exception as one line on stderr with status 1.

#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>

#include <boost/program_options.hpp>

namespace cqrs::tools::benchmarks {

using mode_runner = std::function<int(const std::string& mode, const boost::program_options::variables_map&)>;

inline int mode_main(int argc, char** argv, std::string_view program,
                     const boost::program_options::options_description& flags, const mode_runner& run) {
  namespace po = boost::program_options;
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode.empty() || mode == "--help" || mode == "-h") {
      (mode.empty() ? std::cerr : std::cout) << flags << "\n";
      return mode.empty() ? 2 : 0;
    }
    po::variables_map values;
    po::store(po::parse_command_line(argc - 1, argv + 1, flags), values);
    po::notify(values);
    if (values.count("help") != 0) {
      std::cout << flags << "\n";
      return 0;
    }
    return run(mode, values);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cqrs::tools::benchmarks
