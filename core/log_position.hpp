#pragma once

// A position in the global log: the pair (xid, seq) of an event, where xid is the writing
// transaction's id (xid8) and seq its number from the one event sequence. The log is ordered by
// that pair, the order in which reading can never miss an event (docs/event-store.md).
//
// Outside the engine a position is an opaque token: 32 lowercase hex digits, 16 for the xid and
// 16 for seq. Tokens are URL-safe and compare as strings exactly as positions compare, so clients,
// checkpoints and `min_position` checks may compare them without parsing.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.hpp"

namespace cqrs::core {

class log_position {
 public:
  static constexpr std::size_t token_length = 32;

  // The beginning of the log: before every event.
  constexpr log_position() = default;
  constexpr log_position(std::uint64_t xid, std::uint64_t seq) : xid_(xid), seq_(seq) {}

  // Parses a token; the empty token is accepted as the beginning.
  static result<log_position> parse(std::string_view token);

  constexpr std::uint64_t xid() const { return xid_; }
  constexpr std::uint64_t seq() const { return seq_; }
  constexpr bool is_beginning() const { return xid_ == 0 && seq_ == 0; }

  std::string token() const;

  // Lexicographic on (xid, seq): the declaration order of the members.
  constexpr auto operator<=>(const log_position&) const = default;

 private:
  std::uint64_t xid_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace cqrs::core
