#pragma once

// The machine-readable output of cqrs-bench: one `RESULT <key> <value>` line per figure on stdout,
// nothing else there (progress goes to stderr).

#include <cstdint>
#include <string_view>

namespace cqrs::tools::benchmarks {

void print_result(std::string_view key, double value);
void print_result(std::string_view key, std::uint64_t value);

}  // namespace cqrs::tools::benchmarks
