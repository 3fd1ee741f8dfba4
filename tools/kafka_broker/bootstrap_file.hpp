#pragma once

// The file through which other processes find the cluster. Its ports are random at every start,
// so readers wait for the file to appear; it must therefore never be seen half-written (written
// to a temporary name, then renamed) and never outlive the cluster it describes.

#include <filesystem>
#include <string_view>

#include "core/log.hpp"

namespace cqrs::tools::kafka_broker {

// Writes `<path>.tmp.<pid>`, then renames it over `path`; a reader sees the old file or the
// whole new one. Throws std::system_error on failure, leaving no temporary file behind.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Removes a file left by an earlier run that died without cleaning up, so that readers waiting
// for the file do not pick up the dead cluster's ports. Creates missing parent directories.
void prepare_bootstrap_path(const std::filesystem::path& path, const core::logger& log);

// Publishes the bootstrap list for as long as the object lives.
class bootstrap_file {
 public:
  bootstrap_file(std::filesystem::path path, std::string_view bootstraps);
  bootstrap_file(const bootstrap_file&) = delete;
  bootstrap_file& operator=(const bootstrap_file&) = delete;
  ~bootstrap_file();

 private:
  std::filesystem::path path_;
};

}  // namespace cqrs::tools::kafka_broker
