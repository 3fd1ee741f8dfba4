#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
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
