// The User error codes are a protocol: values and names must never change, and each names the
// command field it is about (for answers that point at the field).

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "commands/user/user_errc.hpp"

namespace u = cqrs::commands::user;

TEST_CASE("every user errc value has its own stable name and a field (possibly none)") {
  std::set<std::string> names;
  for (int value = 1; value <= static_cast<int>(u::errc::invalid_reason); ++value) {
    CAPTURE(value);
    const std::string name(u::to_string(static_cast<u::errc>(value)));
    CHECK(name.rfind("user.", 0) == 0);
    CHECK(names.insert(name).second);
    CHECK_NOTHROW((void)u::field_of(static_cast<u::errc>(value)));
  }
}

TEST_CASE("user errc values, names and fields are pinned") {
  CHECK(static_cast<int>(u::errc::user_already_registered) == 1);
  CHECK(static_cast<int>(u::errc::email_already_taken) == 7);
  CHECK(static_cast<int>(u::errc::last_admin) == 13);
  CHECK(static_cast<int>(u::errc::invalid_reason) == 14);
  CHECK(u::to_string(u::errc::email_already_taken) == "user.email_already_taken");
  CHECK(u::to_string(u::errc::last_admin) == "user.last_admin");
  CHECK(u::to_string(u::errc::user_forgotten) == "user.forgotten");
  CHECK(u::field_of(u::errc::email_already_taken) == "email");
  CHECK(u::field_of(u::errc::unknown_role) == "role");
  CHECK(u::field_of(u::errc::last_admin).empty());
}

TEST_CASE("a value outside the user errc enum has no name") {
  CHECK_THROWS_AS(u::to_string(static_cast<u::errc>(999)), std::invalid_argument);
  CHECK_THROWS_AS(u::field_of(static_cast<u::errc>(0)), std::invalid_argument);
}
