#include "tools/kafka_broker/bootstrap_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace cqrs::tools::kafka_broker {

namespace {

std::system_error os_error(const std::string& what) { return {errno, std::generic_category(), what}; }

class file_descriptor {
 public:
  explicit file_descriptor(int fd) : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }

  // Closing can report a write error, so the success path closes explicitly and checks.
  void close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw os_error("close");
  }

 private:
  int fd_;
};

void write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t written = ::write(fd, content.data(), content.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw os_error("write");
    content.remove_prefix(static_cast<std::size_t>(written));
  }
}

// No fsync: the file describes a live process and is worthless after a machine crash anyway;
// rename alone already guarantees readers never see a partial file.
void write_new_file(const std::filesystem::path& path, std::string_view content) {
  file_descriptor file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (file.get() < 0) throw os_error("open " + path.string());
  write_all(file.get(), content);
  file.close();
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path temporary = path;
  temporary += ".tmp." + std::to_string(::getpid());
  try {
    write_new_file(temporary, content);
    std::filesystem::rename(temporary, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

void prepare_bootstrap_path(const std::filesystem::path& path, const core::logger& log) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  if (std::filesystem::remove(path)) log.warn("removed stale bootstrap file", {{"path", path.string()}});
}

bootstrap_file::bootstrap_file(std::filesystem::path path, std::string_view bootstraps) : path_(std::move(path)) {
  // No trailing newline: readers that take the whole file as the bootstrap list stay correct.
  write_file_atomically(path_, bootstraps);
}

bootstrap_file::~bootstrap_file() {
  std::error_code ignored;  // nothing useful to do about it while shutting down
  std::filesystem::remove(path_, ignored);
}

}  // namespace cqrs::tools::kafka_broker
