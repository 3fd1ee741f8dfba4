// Harness log_position: the log-position decoders. The input is a position token as it arrives
// from outside: a client's min_position (query) or X-Min-Position (header), a Kafka message's
// log-position or topic-start header, a stored checkpoint. Promises checked:
//   - core::log_position::parse accepts exactly 32 lowercase hex digits (or the empty token, the
//     beginning), and what it accepts prints back as the same token;
//   - tokens compare as strings exactly as the positions they parse to compare (the promise that
//     lets clients and checkpoints compare tokens without parsing), checked against a few fixed
//     tokens;
//   - the gateway's reading (consistency.hpp) accepts what parse accepts, minus the empty token,
//     from the query and from the header alike, and refuses the rest under min_position.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_position.hpp"
#include "gateway/consistency.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/problem.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::gateway;

bool is_token(std::string_view text) {
  if (text.size() != core::log_position::token_length) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The gateway's reading of one request carrying `token` in the query or the header.
bool gateway_accepts(std::string_view token, bool in_header, const core::log_position* expected) {
  static const gateway_config config;
  http_request request;
  request.method = "GET";
  if (in_header) {
    request.headers.emplace_back("x-min-position", std::string(token));
  } else {
    request.query.emplace_back("min_position", std::string(token));
  }
  std::vector<field_error> errors;
  const auto wait = read_min_position(request, config, errors);
  expect(wait.has_value() != !errors.empty(), "min_position neither read nor refused");
  if (!wait) {
    expect(errors.size() == 1 && errors.front().field == "min_position", "a bad min_position is not named");
    return false;
  }
  if (expected != nullptr) expect(wait->position == *expected, "the gateway reads another position", token);
  return true;
}

// Around the edges of the order: the beginning, the largest xid or seq, the end.
constexpr std::string_view references[] = {
    "00000000000000000000000000000000", "00000000000003e80000000000000001", "0000000000000001ffffffffffffffff",
    "80000000000000000000000000000000", "ffffffffffffffffffffffffffffffff",
};

void decode(std::string_view token) {
  const auto parsed = core::log_position::parse(token);
  const bool valid = token.empty() || is_token(token);
  expect(parsed.ok() == valid, "parse accepts a token that is not 32 lowercase hex digits, or refuses one that is",
         token);
  if (parsed.ok() && !token.empty()) {
    expect(parsed.value().token() == token, "a position prints as another token", token);
    for (const auto reference : references) {
      const auto other = core::log_position::parse(reference).value();
      expect((reference < token) == (other < parsed.value()), "tokens and positions order differently", token);
    }
  }
  const auto* expected = parsed.ok() ? &parsed.value() : nullptr;
  const bool gateway_valid = is_token(token);
  expect(gateway::detail::parse_position(token).has_value() == gateway_valid, "parse_position disagrees", token);
  expect(gateway_accepts(token, false, expected) == gateway_valid, "min_position (query) disagrees", token);
  expect(gateway_accepts(token, true, expected) == gateway_valid, "X-Min-Position disagrees", token);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  cqrs::fuzz::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
