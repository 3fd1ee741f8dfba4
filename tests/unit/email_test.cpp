#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "commands/user/user_rules.hpp"
#include "core/security/blind_index.hpp"
#include "core/security/email.hpp"
#include "core/security/password.hpp"
#include "core/security/secret.hpp"

using namespace cqrs::core::security;

TEST_CASE("emails normalise by case, width and compatibility forms, around trimmed whitespace") {
  CHECK(normalise_email("Alice@Example.COM").value() == "alice@example.com");
  CHECK(normalise_email("  alice@example.com\n").value() == "alice@example.com");
  // Full-width letters and the '＠' sign are compatibility forms of the ASCII ones.
  CHECK(normalise_email("\xef\xbd\x81lice\xef\xbc\xa0" "example.com").value() == "alice@example.com");
  // Case folding beyond ASCII: 'ß' folds to "ss", Greek capitals to small letters.
  CHECK(normalise_email("STRASSE@example.com").value() == normalise_email("stra\xc3\x9f" "e@example.com").value());
  CHECK(normalise_email("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91@example.gr").value() ==
        normalise_email("\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1@example.gr").value());
  // A precomposed 'é' and 'e' + combining acute are the same address.
  // Invisible characters (default ignorables such as the zero-width space) are removed.
  CHECK(normalise_email("ali\xe2\x80\x8b" "ce@example.com").value() == "alice@example.com");
  CHECK(normalise_email("caf\xc3\xa9@example.com").value() == normalise_email("cafe\xcc\x81@example.com").value());
}

TEST_CASE("implausible addresses are refused with the reason") {
  const std::string local64(64, 'a');
  const std::string label63(63, 'b');
  const std::string long_domain = label63 + "." + label63 + "." + label63 + "." + label63 + ".com";  // 259 bytes
  const std::vector<std::pair<std::string, errc>> cases = {
      {"", errc::email_empty},
      {"   ", errc::email_empty},
      {"alice.example.com", errc::email_missing_at},
      {"alice@bob@example.com", errc::email_multiple_at},
      {"@example.com", errc::email_empty_local_part},
      {local64 + "a@example.com", errc::email_local_part_too_long},
      {"alice@", errc::email_empty_domain},
      {"alice@localhost", errc::email_invalid_domain},
      {"alice@example..com", errc::email_invalid_domain},
      {"alice@.example.com", errc::email_invalid_domain},
      {"alice@example.com.", errc::email_invalid_domain},
      {"alice@" + std::string(64, 'c') + ".com", errc::email_invalid_domain},
      {"alice@" + long_domain, errc::email_domain_too_long},
      {local64 + "@" + label63 + "." + label63 + "." + label63 + ".co", errc::email_too_long},
      {"al ice@example.com", errc::email_control_character},
      {"alice@exa\tmple.com", errc::email_control_character},
      {std::string("alice\0@example.com", 18), errc::email_control_character},
      {"alice\xff@example.com", errc::email_invalid_utf8},
      {"alice\xc3@example.com", errc::email_invalid_utf8},
      {std::string(5000, 'a') + "@example.com", errc::email_too_long},
  };
  for (const auto& [address, code] : cases) {
    CAPTURE(address.substr(0, 80));
    const auto normal = normalise_email(address);
    REQUIRE_FALSE(normal.ok());
    CHECK(to_string(normal.code()) == to_string(code));
    CHECK_FALSE(normal.error().detail.empty());
  }
}

TEST_CASE("the limits themselves are accepted") {
  const std::string local64(64, 'a');
  const std::string label63(63, 'b');
  const auto longest = local64 + "@" + label63 + "." + label63 + "." + std::string(57, 'c') + ".com";
  CHECK(longest.size() == email_max_bytes);
  CHECK(normalise_email(longest).ok());
}

TEST_CASE("code points are counted, not bytes") {
  CHECK(code_points("abc") == 3u);
  CHECK(code_points("\xc3\xa9\xf0\x9f\x98\x80") == 2u);  // é and an emoji
  CHECK_FALSE(code_points("\xff").has_value());
}

TEST_CASE("the blind index is keyed, equal for equivalent addresses and different across purposes") {
  const auto key = key256::random();
  const blind_index index(key);
  const auto a = index.of_email("Alice@Example.com");
  REQUIRE(a.ok());
  // One form everywhere: 64 lowercase hex digits, what the User aggregate checks and stores.
  CHECK(a.value().size() == 64);
  CHECK(a.value().find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK_FALSE(cqrs::commands::user::rules::check_email_index(cqrs::schemas::blind_index(a.value())).has_value());
  CHECK(a.value() == index.of_email(" alice@EXAMPLE.com").value());
  CHECK(a.value() == index.of_normalised("alice@example.com"));
  CHECK(a.value() != index.of_email("bob@example.com").value());
  CHECK(a.value() != blind_index(key256::random()).of_email("alice@example.com").value());
  CHECK(a.value() != index.of_normalised("alice@example.com", "phone"));
  CHECK(blind_index(key).of_email("alice@example.com").value() == a.value());
  CHECK(index.of_email("not an address").code() == errc::email_control_character);
}

TEST_CASE("random bytes given as an address are refused or normalised, never thrown") {
  for (int i = 0; i < 3000; ++i) {
    const auto noise = random_bytes(static_cast<std::size_t>(i % 300));
    for (const auto& text : {noise, noise + "@example.com", "a@" + noise}) {
      CHECK_NOTHROW((void)normalise_email(text));
      CHECK_NOTHROW((void)check_new_password(text, "a@example.com"));
    }
  }
}
