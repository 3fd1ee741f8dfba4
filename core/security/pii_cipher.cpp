#include "core/security/pii_cipher.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <memory>

#include <fmt/format.h>

namespace cqrs::core::security {

namespace {

constexpr std::size_t nonce_size = 12;  // 96 bits: GCM's native nonce length
constexpr std::size_t tag_size = 16;
constexpr std::string_view field_version = "pii1";
constexpr std::string_view wrap_version = "wk1";

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

cipher_ctx new_ctx() {
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw crypto_error("EVP_CIPHER_CTX_new failed");
  return ctx;
}

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

// Length-prefixed parts, so that ("ab", "c") and ("a", "bc") give different associated data.
std::string associated_data(std::string_view label, std::string_view first, std::string_view second) {
  return fmt::format("{}|{}:{}|{}:{}", label, first.size(), first, second.size(), second);
}

// nonce | ciphertext | tag
std::string gcm_seal(const key256& key, std::string_view aad, std::string_view plaintext) {
  auto out = random_bytes(nonce_size);
  out.resize(nonce_size + plaintext.size() + tag_size);
  auto* text = reinterpret_cast<unsigned char*>(out.data()) + nonce_size;
  auto ctx = new_ctx();
  int length = 0;
  int final_length = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes_of(out)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), text, &length, bytes_of(plaintext), static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), text + length, &final_length) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, text + plaintext.size()) == 1;
  if (!ok) throw crypto_error("AES-256-GCM encryption failed");
  return out;
}

// Nothing when the tag does not verify (or the blob is too short).
std::optional<std::string> gcm_open(const key256& key, std::string_view aad, std::string_view blob) {
  if (blob.size() < nonce_size + tag_size) return std::nullopt;
  const auto body = blob.substr(nonce_size, blob.size() - nonce_size - tag_size);
  std::string tag(blob.substr(blob.size() - tag_size));
  std::string plaintext(body.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  auto ctx = new_ctx();
  int length = 0;
  int final_length = 0;
  const bool set_up =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, nonce_size, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes_of(blob)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes_of(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &length, bytes_of(body), static_cast<int>(body.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) == 1;
  if (!set_up) throw crypto_error("AES-256-GCM decryption could not start");
  if (EVP_DecryptFinal_ex(ctx.get(), out + length, &final_length) != 1) {
    sodium_memzero(plaintext.data(), plaintext.size());
    return std::nullopt;
  }
  return plaintext;
}

struct sealed_parts {
  std::string_view version;
  std::string_view key_id;
  std::string_view body;
};

// `version.key_id.body` with a 16-hex-digit key id.
std::optional<sealed_parts> split(std::string_view text) {
  const auto first = text.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  sealed_parts parts{text.substr(0, first), text.substr(first + 1, second - first - 1), text.substr(second + 1)};
  if (parts.key_id.size() != 16 || parts.key_id.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return parts;
}

refusal malformed() { return refusal{errc::sealed_malformed, "not a sealed field (pii1.<key id>.<base64url>)"}; }

}  // namespace

data_key data_key::generate() { return data_key{hex_encode(random_bytes(8)), key256::random()}; }

std::string seal_field(const data_key& key, const field_context& where, std::string_view plaintext) {
  const auto blob = gcm_seal(key.key, associated_data(field_version, where.stream, where.field), plaintext);
  return fmt::format("{}.{}.{}", field_version, key.id, base64url_encode(blob));
}

result<std::string> sealed_key_id(std::string_view sealed) {
  const auto parts = split(sealed);
  if (!parts || parts->version != field_version) return malformed();
  return std::string(parts->key_id);
}

result<std::string> open_field(const data_key& key, const field_context& where, std::string_view sealed) {
  const auto parts = split(sealed);
  if (!parts || parts->version != field_version) return malformed();
  const auto blob = base64url_decode(parts->body);
  if (!blob || blob->size() < nonce_size + tag_size) return malformed();
  if (parts->key_id != key.id) return refusal{errc::sealed_wrong_key, "sealed under another data key"};
  auto plaintext = gcm_open(key.key, associated_data(field_version, where.stream, where.field), *blob);
  if (!plaintext) {
    return refusal{errc::sealed_not_authentic, "the field does not open here (another stream or field, or altered)"};
  }
  return std::move(*plaintext);
}

master_keyring::master_keyring(key256 current, std::vector<key256> older) {
  ids_.push_back(current.id());
  keys_.push_back(std::move(current));
  for (auto& key : older) {
    if (find(key.id()) != nullptr) continue;
    ids_.push_back(key.id());
    keys_.push_back(std::move(key));
  }
}

master_keyring master_keyring::rotated_to(key256 next) const { return master_keyring(std::move(next), keys_); }

const key256* master_keyring::find(std::string_view id) const {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    if (ids_[i] == id) return &keys_[i];
  }
  return nullptr;
}

std::string wrap_data_key(const master_keyring& ring, std::string_view subject, const data_key& key) {
  const auto raw = std::string_view(reinterpret_cast<const char*>(key.key.data()), key256::size);
  const auto blob = gcm_seal(ring.current(), associated_data(wrap_version, subject, key.id), raw);
  return fmt::format("{}.{}.{}", wrap_version, ring.current_id(), base64url_encode(blob));
}

std::optional<std::string> wrapped_master_id(std::string_view wrapped) {
  const auto parts = split(wrapped);
  if (!parts || parts->version != wrap_version) return std::nullopt;
  return std::string(parts->key_id);
}

data_key unwrap_data_key(const master_keyring& ring, std::string_view subject, std::string_view data_key_id,
                         std::string_view wrapped) {
  const auto parts = split(wrapped);
  if (!parts || parts->version != wrap_version) throw crypto_error("a wrapped data key is malformed");
  const auto* master = ring.find(parts->key_id);
  if (master == nullptr) {
    throw crypto_error(fmt::format("data key wrapped by master key {}, which this process does not hold", parts->key_id));
  }
  const auto blob = base64url_decode(parts->body);
  auto raw = blob ? gcm_open(*master, associated_data(wrap_version, subject, data_key_id), *blob) : std::nullopt;
  if (!raw || raw->size() != key256::size) throw crypto_error("a wrapped data key does not unwrap (corrupt or moved)");
  key256::bytes_type bytes{};
  std::copy(raw->begin(), raw->end(), bytes.begin());
  sodium_memzero(raw->data(), raw->size());
  data_key key{std::string(data_key_id), key256(bytes)};
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

}  // namespace cqrs::core::security
