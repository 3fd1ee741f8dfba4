#include "core/security/file_key_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/security/secret.hpp"

namespace cqrs::core::security {

namespace {

// File format, one value per line: "cqrs-key v1", base64url(subject), key id, wrapped key or
// "destroyed". The subject is encoded because it may hold any byte.
constexpr std::string_view header = "cqrs-key v1";
constexpr std::string_view destroyed_mark = "destroyed";

[[noreturn]] void fail(const std::string& what) {
  throw store_error(failure_kind::statement, fmt::format("file key store: {}: {}", what, std::strerror(errno)));
}

// A file descriptor closed on scope exit.
class descriptor {
 public:
  explicit descriptor(int fd) : fd_(fd) {}
  ~descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  descriptor(const descriptor&) = delete;
  descriptor& operator=(const descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Holds the directory's exclusive lock (destroy and re-wrap read, compare and replace under it).
class directory_lock {
 public:
  explicit directory_lock(const std::filesystem::path& directory)
      : fd_(::open((directory / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_.get() < 0) fail("cannot open the lock file");
    if (::flock(fd_.get(), LOCK_EX) != 0) fail("cannot lock");
  }

 private:
  descriptor fd_;
};

std::string encode(const std::string& subject, const std::string& key_id, const std::string& wrapped) {
  return fmt::format("{}\n{}\n{}\n{}\n", header, base64url_encode(subject), key_id, wrapped);
}

struct file_row {
  std::string subject;
  std::string key_id;
  std::string wrapped;  // or destroyed_mark
};

std::optional<file_row> read_row(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  // A destroy overwrites the old file with zeros after the tombstone took its name: a reader that
  // opened the old file just before reads zeros, which mean exactly that.
  if (in.peek() == '\0') return file_row{"", "", std::string(destroyed_mark)};
  std::string first;
  std::string subject;
  file_row row;
  if (!std::getline(in, first) || first != header || !std::getline(in, subject) || !std::getline(in, row.key_id) ||
      !std::getline(in, row.wrapped)) {
    throw store_error(failure_kind::unexpected, fmt::format("file key store: {} is not a key file", path.string()));
  }
  auto decoded = base64url_decode(subject);
  if (!decoded) throw store_error(failure_kind::unexpected, fmt::format("file key store: {} is corrupt", path.string()));
  row.subject = std::move(*decoded);
  return row;
}

stored_key to_stored(const file_row& row) {
  if (row.wrapped == destroyed_mark) return key_destroyed{};
  return wrapped_key{row.subject, row.key_id, row.wrapped};
}

void write_all(int fd, const std::string& contents) {
  if (::write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size()) || ::fsync(fd) != 0) {
    fail("cannot write");
  }
}

// A new file in the directory holding `contents`, durable before it gets its final name.
std::filesystem::path write_temporary(const std::filesystem::path& directory, const std::string& contents) {
  const auto path = directory / fmt::format(".tmp-{}", hex_encode(random_bytes(12)));
  const descriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) fail("cannot create a temporary file");
  write_all(fd.get(), contents);
  return path;
}

void sync_directory(const std::filesystem::path& directory) {
  const descriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) fail("cannot sync the directory");
}

// Best effort: the bytes of the old wrapped key are overwritten where the file system lets us.
void overwrite_with_zeros(int fd) {
  const auto size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0 || ::lseek(fd, 0, SEEK_SET) != 0) return;
  write_all(fd, std::string(static_cast<std::size_t>(size), '\0'));
}

}  // namespace

file_key_store::file_key_store(std::filesystem::path directory) : directory_(std::move(directory)) {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) {
    throw store_error(failure_kind::connection,
                      fmt::format("file key store: cannot create {}: {}", directory_.string(), error.message()));
  }
  std::filesystem::permissions(directory_, std::filesystem::perms::owner_all, error);
}

std::filesystem::path file_key_store::file_of(std::string_view subject) const {
  ensure_sodium();
  std::array<unsigned char, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(subject.data()), subject.size(),
                     nullptr, 0);
  return directory_ / (hex_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())) + ".key");
}

void file_key_store::replace(const std::filesystem::path& target, const std::string& contents) const {
  const auto temporary = write_temporary(directory_, contents);
  if (::rename(temporary.c_str(), target.c_str()) != 0) fail("cannot replace a key file");
  sync_directory(directory_);
}

stored_key file_key_store::create(const wrapped_key& candidate) {
  const auto target = file_of(candidate.subject);
  const auto temporary = write_temporary(directory_, encode(candidate.subject, candidate.key_id, candidate.wrapped));
  // link(2) gives the file its name only if the name is free: the first creator wins.
  const bool created = ::link(temporary.c_str(), target.c_str()) == 0;
  const int link_error = errno;
  ::unlink(temporary.c_str());
  if (!created && link_error != EEXIST) {
    errno = link_error;
    fail("cannot create a key file");
  }
  if (created) sync_directory(directory_);
  auto stored = load(candidate.subject);
  if (!stored) throw store_error(failure_kind::unexpected, "file key store: a key file vanished after its creation");
  return std::move(*stored);
}

std::optional<stored_key> file_key_store::load(std::string_view subject) {
  const auto row = read_row(file_of(subject));
  if (!row) return std::nullopt;
  return to_stored(*row);
}

void file_key_store::destroy(std::string_view subject) {
  const directory_lock lock(directory_);
  const auto target = file_of(subject);
  // The old file stays open across the rename, so its bytes can be overwritten once the
  // tombstone holds the name (readers never see a half-written key file).
  const descriptor old_file(::open(target.c_str(), O_WRONLY | O_CLOEXEC));
  replace(target, encode(std::string(subject), "", std::string(destroyed_mark)));
  if (old_file.get() >= 0) overwrite_with_zeros(old_file.get());
}

std::vector<wrapped_key> file_key_store::list_after(std::string_view after, std::size_t limit) {
  std::vector<wrapped_key> keys;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    if (entry.path().extension() != ".key" || entry.path().filename().string().starts_with(".")) continue;
    const auto row = read_row(entry.path());
    if (!row || row->wrapped == destroyed_mark || row->subject <= after) continue;
    keys.push_back(wrapped_key{row->subject, row->key_id, row->wrapped});
  }
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.subject < b.subject; });
  if (keys.size() > limit) keys.resize(limit);
  return keys;
}

bool file_key_store::rewrap(std::string_view subject, std::string_view old_wrapped, std::string_view new_wrapped) {
  const directory_lock lock(directory_);
  const auto target = file_of(subject);
  const auto row = read_row(target);
  if (!row || row->wrapped != old_wrapped) return false;
  replace(target, encode(row->subject, row->key_id, std::string(new_wrapped)));
  return true;
}

}  // namespace cqrs::core::security
