#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/log.hpp"

using namespace cqrs::core;

namespace {

std::string read_all(int fd) {
  std::string out;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) out.append(buffer.data(), static_cast<size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("logfmt values are quoted only when they need it") {
  CHECK(logfmt_value("plain") == "plain");
  CHECK(logfmt_value("") == "\"\"");
  CHECK(logfmt_value("two words") == "\"two words\"");
  CHECK(logfmt_value("a=b") == "\"a=b\"");
  CHECK(logfmt_value("say \"hi\"\n") == R"("say \"hi\"\n")");
  CHECK(logfmt_value(std::string("\x01", 1)) == R"("\u0001")");
}

TEST_CASE("a log line carries time, level, component, message and fields") {
  const auto line = format_log_line("2026-01-01T00:00:00.000Z", log_level::warn, "relay", "broker down",
                                    {{"attempt", 3}, {"error", "connection refused"}});
  CHECK(line ==
        R"(time=2026-01-01T00:00:00.000Z level=warn component=relay msg="broker down" attempt=3 error="connection refused")");
}

TEST_CASE("the logger writes whole lines above its threshold only") {
  std::array<int, 2> fds{};
  REQUIRE(::pipe(fds.data()) == 0);
  {
    const logger log("test", log_level::info, fds[1]);
    log.debug("hidden");
    log.info("shown", {{"n", 1}});
    log.child("child").error("also shown");
  }
  ::close(fds[1]);
  const auto output = read_all(fds[0]);
  ::close(fds[0]);
  CHECK(output.find("hidden") == std::string::npos);
  CHECK(output.find("level=info component=test msg=shown n=1\n") != std::string::npos);
  CHECK(output.find("level=error component=child msg=\"also shown\"\n") != std::string::npos);
}

TEST_CASE("log levels parse and reject unknown names") {
  CHECK(parse_log_level("debug") == log_level::debug);
  CHECK(parse_log_level("error") == log_level::error);
  CHECK_THROWS_AS(parse_log_level("loud"), std::invalid_argument);
}

TEST_CASE("a buffered logger writes whole lines together: on flush, when the buffer fills, on destruction") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::array<char, 4096> chunk{};
  {
    // An interval far beyond the test: only flush(), a full buffer and the end write.
    auto buffer = std::make_shared<log_buffer>(fds[1], 300, std::chrono::seconds{600});
    const auto log = logger("buffered", log_level::info, fds[1]).buffered(buffer);
    log.info("first", {{"n", 1}});
    log.info("second", {{"n", 2}});
    buffer->flush();
    const auto n = ::read(fds[0], chunk.data(), chunk.size());
    REQUIRE(n > 0);
    const std::string got(chunk.data(), static_cast<std::size_t>(n));
    CHECK(got.find("msg=first n=1\n") != std::string::npos);
    CHECK(got.find("msg=second n=2\n") != std::string::npos);
    CHECK(got.find("msg=first") < got.find("msg=second"));

    // Lines of over 100 bytes: by the third, 300 bytes wait and go out together, whole.
    for (int i = 0; i < 3; ++i) log.info("filling", {{"i", i}, {"pad", std::string(40, 'x')}});
    const auto m = ::read(fds[0], chunk.data(), chunk.size());
    REQUIRE(m > 0);
    const std::string full(chunk.data(), static_cast<std::size_t>(m));
    CHECK(full.find("i=0 ") != std::string::npos);
    CHECK(full.find("i=1 ") != std::string::npos);
    CHECK(full.back() == '\n');

    log.info("last", {{"pending", "until the end"}});
  }  // the buffer's destruction writes what waits
  ::close(fds[1]);
  const auto rest = read_all(fds[0]);
  ::close(fds[0]);
  CHECK(rest.find("msg=last pending=\"until the end\"\n") != std::string::npos);
}

TEST_CASE("a buffered logger writes a waiting line by itself after its interval") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::array<char, 4096> chunk{};
  {
    auto buffer = std::make_shared<log_buffer>(fds[1], 1 << 20, std::chrono::milliseconds{20});
    const auto log = logger("buffered", log_level::info, fds[1]).buffered(buffer);
    log.info("by the timer");
    const auto n = ::read(fds[0], chunk.data(), chunk.size());  // blocks until the flusher writes
    REQUIRE(n > 0);
    CHECK(std::string(chunk.data(), static_cast<std::size_t>(n)).find("msg=\"by the timer\"\n") != std::string::npos);
  }
  ::close(fds[1]);
  ::close(fds[0]);
}
