#pragma once

// Key material and its encodings: a 256-bit key that wipes itself, random bytes, base64url (all
// through libsodium, so nothing here is hand-written), key files and key ids.

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cqrs::core::security {

// Calls sodium_init() once per process (it is idempotent and thread-safe); every entry point of
// this library that uses libsodium calls it first. Throws crypto_error if libsodium cannot start.
void ensure_sodium();

// A 256-bit key, wiped (sodium_memzero) when destroyed or moved from. Copyable on purpose: the key
// cache hands out copies, each wiped in its turn.
class key256 {
 public:
  static constexpr std::size_t size = 32;
  using bytes_type = std::array<unsigned char, size>;

  key256() = default;
  explicit key256(const bytes_type& bytes) : bytes_(bytes) {}
  key256(const key256&) = default;
  key256& operator=(const key256&) = default;
  key256(key256&& other) noexcept;
  key256& operator=(key256&& other) noexcept;
  ~key256();

  static key256 random();  // from libsodium's CSPRNG

  const bytes_type& bytes() const { return bytes_; }
  const unsigned char* data() const { return bytes_.data(); }

  // 16 hex digits naming the key without revealing it (a keyed-free BLAKE2b of a fixed label and
  // the key): written next to what the key wrapped, so the right key is picked among several.
  std::string id() const;

  // Constant-time comparison.
  bool same_as(const key256& other) const;

 private:
  void wipe() noexcept;
  bytes_type bytes_{};
};

std::string random_bytes(std::size_t count);

// base64url without padding (RFC 4648 section 5): safe in URLs, JSON and `.`-separated texts.
std::string base64url_encode(std::string_view bytes);
// Nothing when `text` is not base64url without padding.
std::optional<std::string> base64url_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);

// A key file holds 32 bytes as base64url (43 characters, what `cqrs keys generate` writes),
// standard base64 (44 with padding) or 64 hex digits, surrounding whitespace ignored. Refused with
// a key_file_error: unreadable, not exactly 32 bytes, or readable by others than its owner and
// group (mode o+r), since a key anyone on the host can read protects nothing.
class key_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
key256 read_key_file(const std::filesystem::path& path);

// Parses the text of a key file (see read_key_file); nothing when it is not a 32-byte key.
std::optional<key256> parse_key_text(std::string_view text);

// Writes a fresh random key to `path` (mode 0600, refused if the file exists) and returns it.
key256 write_new_key_file(const std::filesystem::path& path);

}  // namespace cqrs::core::security
