#include "core/security/secret.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/security/errc.hpp"

namespace cqrs::core::security {

void ensure_sodium() {
  if (sodium_init() < 0) throw crypto_error("libsodium could not be initialised");
}

key256::key256(key256&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }

key256& key256::operator=(key256&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    other.wipe();
  }
  return *this;
}

key256::~key256() { wipe(); }

void key256::wipe() noexcept { sodium_memzero(bytes_.data(), bytes_.size()); }

key256 key256::random() {
  ensure_sodium();
  bytes_type bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  key256 key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

std::string key256::id() const {
  ensure_sodium();
  static constexpr std::string_view label = "cqrs key id v1";
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES_MIN);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  crypto_generichash_update(&state, bytes_.data(), bytes_.size());
  std::array<unsigned char, crypto_generichash_BYTES_MIN> digest{};
  crypto_generichash_final(&state, digest.data(), digest.size());
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), 8));
}

bool key256::same_as(const key256& other) const { return sodium_memcmp(bytes_.data(), other.bytes_.data(), size) == 0; }

std::string random_bytes(std::size_t count) {
  ensure_sodium();
  std::string out(count, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

namespace {

constexpr int url_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::optional<std::string> decode_base64(std::string_view text, int variant) {
  std::string out(text.size(), '\0');  // decoded is never longer than its text
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::optional<std::string> decode_hex(std::string_view text) {
  std::string out(text.size() / 2 + 1, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                     &length, &end) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), url_variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    url_variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  ensure_sodium();
  return decode_base64(text, url_variant);
}

std::string hex_encode(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.resize(out.size() - 1);
  return out;
}

std::optional<key256> parse_key_text(std::string_view text) {
  ensure_sodium();
  text = trim(text);
  std::optional<std::string> raw;
  if (text.size() == 64) raw = decode_hex(text);
  if (!raw && text.size() == 43) raw = decode_base64(text, url_variant);
  if (!raw && text.size() == 44) raw = decode_base64(text, sodium_base64_VARIANT_ORIGINAL);
  if (!raw || raw->size() != key256::size) {
    if (raw) sodium_memzero(raw->data(), raw->size());
    return std::nullopt;
  }
  key256::bytes_type bytes{};
  std::memcpy(bytes.data(), raw->data(), bytes.size());
  sodium_memzero(raw->data(), raw->size());
  key256 key(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

key256 read_key_file(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw key_file_error(fmt::format("cannot read key file {}: {}", path.string(), std::strerror(errno)));
  }
  if ((info.st_mode & S_IROTH) != 0) {
    throw key_file_error(fmt::format("key file {} is readable by every user (chmod o-r it, 0600 is best)", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw key_file_error(fmt::format("cannot read key file {}", path.string()));
  std::string contents = text.str();
  auto key = parse_key_text(contents);
  sodium_memzero(contents.data(), contents.size());
  if (!key) {
    throw key_file_error(fmt::format(
        "key file {} does not hold a 32-byte key (base64url, base64 or 64 hex digits; `cqrs keys generate` writes one)",
        path.string()));
  }
  return std::move(*key);
}

key256 write_new_key_file(const std::filesystem::path& path) {
  auto key = key256::random();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw key_file_error(fmt::format("cannot create key file {}: {}", path.string(), std::strerror(errno)));
  auto text = base64url_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key256::size)) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!written) throw key_file_error(fmt::format("cannot write key file {}", path.string()));
  return key;
}

}  // namespace cqrs::core::security
