// cqrs-bench auth: libsodium's raw argon2id rate, the baseline of `tools/bench auth`. Runs
// crypto_pwhash (argon2id 1.3, the parameters the gateway ships: core/security/password.hpp's
// argon2_params, or --memory-kib / --passes) on --threads threads at once for --seconds, and
// prints the hashes per second of all threads together (wall time) as RESULT argon2id_per_s.

#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "core/security/password.hpp"
#include "tools/benchmarks/benchmark.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace cqrs::tools::benchmarks {

namespace {

namespace po = boost::program_options;

constexpr const char* summary = "libsodium's raw argon2id rate at the gateway's parameters (the auth baseline)";

// Hashes until `stop`; the number made.
std::uint64_t hash_until(const core::security::argon2_params& params, const std::atomic<bool>& stop) {
  const std::string password = "correct horse battery staple";
  std::array<unsigned char, crypto_pwhash_SALTBYTES> salt{};
  randombytes_buf(salt.data(), salt.size());
  std::array<unsigned char, 32> key{};
  std::uint64_t made = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (crypto_pwhash(key.data(), key.size(), password.data(), password.size(), salt.data(), params.ops_limit,
                      params.mem_limit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
      throw std::runtime_error("crypto_pwhash failed (out of memory?)");
    }
    ++made;
  }
  return made;
}

int run(int argc, char** argv) {
  po::options_description flags(std::string("cqrs-bench auth: ") + summary);
  const core::security::argon2_params shipped;
  flags.add_options()("help,h", "this help")("seconds", po::value<int>()->default_value(10), "seconds to measure")(
      "threads", po::value<int>()->default_value(static_cast<int>(std::max(1U, std::thread::hardware_concurrency()))),
      "threads hashing at once")("memory-kib", po::value<std::uint64_t>()->default_value(shipped.mem_limit / 1024),
                                  "argon2 memory, KiB")(
      "passes", po::value<std::uint64_t>()->default_value(shipped.ops_limit), "argon2 passes");
  po::variables_map values;
  po::store(po::parse_command_line(argc, argv, flags), values);
  if (values.count("help") != 0) {
    std::cout << flags;
    return 0;
  }
  po::notify(values);
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
  const core::security::argon2_params params{values["passes"].as<std::uint64_t>(),
                                             values["memory-kib"].as<std::uint64_t>() * 1024};
  const int threads = std::max(1, values["threads"].as<int>());
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> made(static_cast<std::size_t>(threads));
  const auto started = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] { made[static_cast<std::size_t>(t)] = hash_until(params, stop); });
    }
    std::this_thread::sleep_for(std::chrono::seconds(values["seconds"].as<int>()));
    stop = true;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::uint64_t total = 0;
  for (const auto n : made) total += n;
  std::cerr << fmt::format("argon2id m={} KiB t={} p=1: {} hashes on {} threads in {:.2f} s\n", params.mem_limit / 1024,
                           params.ops_limit, total, threads, elapsed);
  print_result("argon2id_per_s", static_cast<double>(total) / elapsed);
  print_result("argon2id_threads", static_cast<std::uint64_t>(threads));
  return 0;
}

}  // namespace

benchmark auth_benchmark() { return {"auth", summary, run}; }

}  // namespace cqrs::tools::benchmarks
