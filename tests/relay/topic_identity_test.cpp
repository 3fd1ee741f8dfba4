// How the relay tells its topic from another one (commands/relay/topic_identity.hpp), and how it
// follows the embedded broker's bootstrap file (core/kafka_bootstrap.hpp). No Kafka needed.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/kafka_bootstrap.hpp"
#include "commands/relay/topic_identity.hpp"

using namespace cqrs::commands::relay;
using cqrs::core::kafka::bootstrap_source;
using namespace std::chrono_literals;

namespace {

topic_sample sample(std::string cluster, std::vector<std::int64_t> high) { return {std::move(cluster), std::move(high)}; }

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file.string() + ".tmp") << text;
  std::filesystem::rename(file.string() + ".tmp", file);
}

}  // namespace

TEST_CASE("with nothing remembered, only an empty topic after acknowledged events is another topic") {
  const topic_identity fresh;
  CHECK(fresh.changed(sample("c", {0, 0, 0}), true));
  CHECK_FALSE(fresh.changed(sample("c", {0, 0, 0}), false));  // nothing was ever acknowledged
  CHECK_FALSE(fresh.changed(sample("c", {0, 4, 0}), true));   // retention never empties a partition
}

TEST_CASE("a remembered topic changes with its cluster id or when a partition falls below an offset seen") {
  topic_identity identity;
  identity.adopt(sample("c1", {3, 0}));
  CHECK_FALSE(identity.changed(sample("c1", {3, 0}), true));
  CHECK_FALSE(identity.changed(sample("c1", {9, 2}), true));
  CHECK(identity.changed(sample("c2", {9, 2}), true));
  CHECK(identity.changed(sample("c1", {2, 5}), true));  // partition 0 had offset 2: high 2 lacks it
  CHECK(identity.changed(sample("c1", {}), true));      // partitions gone
  CHECK(identity.acknowledged(1, 0));                   // partition 1 was empty
  CHECK_FALSE(identity.changed(sample("c1", {3, 1}), false));
  CHECK(identity.changed(sample("c1", {3, 0}), false));  // offset 0 of partition 1 was acknowledged
}

TEST_CASE("a delivery at an offset its partition had passed shows another topic") {
  topic_identity identity;
  identity.adopt(sample("c", {0}));
  CHECK(identity.acknowledged(0, 0));
  CHECK(identity.acknowledged(0, 1));
  CHECK_FALSE(identity.acknowledged(0, 1));
  CHECK_FALSE(identity.acknowledged(0, 0));
  CHECK(identity.acknowledged(0, 2));
  CHECK(identity.acknowledged(-1, -1));  // a report without a place proves nothing
}

TEST_CASE("the bootstrap file is followed; a missing file is a broker starting, not a move") {
  const auto dir = std::filesystem::temp_directory_path() / "cqrs-bootstrap-source-test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "bootstrap";
  std::filesystem::remove(file);
  bootstrap_source source("literal:9092", file, 0ms);
  CHECK(source.current() == "literal:9092");
  write_file(file, "127.0.0.1:1111\n");
  CHECK(source.moved());
  CHECK(source.current() == "127.0.0.1:1111");
  CHECK_FALSE(source.moved());
  std::filesystem::remove(file);
  CHECK_FALSE(source.moved());
  write_file(file, "127.0.0.1:1111");
  CHECK_FALSE(source.moved());  // same list: librdkafka reconnects by itself
  write_file(file, "127.0.0.1:2222");
  CHECK(source.moved());
  CHECK(bootstrap_source("literal:9092", {}).moved() == false);  // a real cluster's list never moves
  std::filesystem::remove_all(dir);
}
