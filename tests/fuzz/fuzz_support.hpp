#pragma once

// What the harnesses share: a way to report a broken promise (a libFuzzer crash with a message,
// so the finding names what was broken), and the checks every answer to bad input must pass.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/http_types.hpp"

namespace cqrs::fuzz {

// A promise of the code under test did not hold: print why and abort, which libFuzzer records as
// a crash and saves the input that caused it.
[[noreturn]] inline void broken(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "FUZZ FINDING: %.*s %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void expect(bool holds, std::string_view what, std::string_view detail = {}) {
  if (!holds) broken(what, detail);
}

// An answer to anything a client sent: never a 5xx (bad input is the client's fault, and nothing
// here touches a dependency that could be down), and every refusal is problem+json.
inline void check_answer(const gateway::http_response& response) {
  expect(response.status >= 100 && response.status < 500, "a request was answered with a 5xx",
         std::to_string(response.status) + " " + response.body);
  if (response.status < 400) return;
  bool problem = false;
  for (const auto& [name, value] : response.headers) {
    if ((name == "Content-Type" || name == "content-type") && value == "application/problem+json") problem = true;
  }
  expect(problem, "a refusal is not application/problem+json", std::to_string(response.status) + " " + response.body);
}

}  // namespace cqrs::fuzz
