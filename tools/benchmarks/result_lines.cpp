#include "tools/benchmarks/result_lines.hpp"

#include <fmt/format.h>

namespace cqrs::tools::benchmarks {

void print_result(std::string_view key, double value) { fmt::print("RESULT {} {:.3f}\n", key, value); }

void print_result(std::string_view key, std::uint64_t value) { fmt::print("RESULT {} {}\n", key, value); }

}  // namespace cqrs::tools::benchmarks
