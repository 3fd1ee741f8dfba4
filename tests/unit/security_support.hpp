#pragma once

// Shared by the security unit tests: a scratch directory for key files, removed at the end.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace cqrs::tests {

class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cqrs-security.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // A file holding `text`, with `mode` permissions.
  std::filesystem::path file(std::string_view name, std::string_view text,
                             std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_write) const {
    const auto file_path = path_ / std::string(name);
    std::ofstream(file_path) << text;
    std::filesystem::permissions(file_path, mode);
    return file_path;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace cqrs::tests
