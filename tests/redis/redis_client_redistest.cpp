#include <doctest/doctest.h>

#include "projections/redis_client.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

using cqrs::projections::parse_redis_url;
using cqrs::projections::redis_client;
using cqrs::projections::redis_reply;
using cqrs::projections::redis_script;

TEST_CASE("a redis URL gives host, port and database, with defaults for the missing parts") {
  const auto full = parse_redis_url("redis://10.0.0.1:7000/3");
  CHECK(full.host == "10.0.0.1");
  CHECK(full.port == 7000);
  CHECK(full.database == 3);
  const auto bare = parse_redis_url("redis://");
  CHECK(bare.host == "127.0.0.1");
  CHECK(bare.port == 6379);
  CHECK_THROWS_AS(parse_redis_url("http://x"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://h:port"), std::invalid_argument);
}

TEST_CASE("commands are binary safe and an error reply is a value, not an exception") {
  redis_client client(cqrs::tests::redis_url());
  const std::string key = "test:client:" + cqrs::tests::run_id();
  const std::string value("a\0b c", 5);
  client.checked({"SET", key, value});
  CHECK(client.command({"GET", key}).text == value);
  CHECK(client.command({"HGET", key, "x"}).is_error());
  CHECK_THROWS_AS(client.checked({"HGET", key, "x"}), cqrs::projections::redis_error);
  client.checked({"DEL", key});
}

TEST_CASE("pipelined replies come back in order") {
  redis_client client(cqrs::tests::redis_url());
  const std::string key = "test:pipeline:" + cqrs::tests::run_id();
  for (int i = 0; i < 100; ++i) client.append({"INCR", key});
  for (int i = 1; i <= 100; ++i) CHECK(client.read_reply().integer == i);
  client.checked({"DEL", key});
}

TEST_CASE("a script runs again after the server forgot it") {
  redis_client client(cqrs::tests::redis_url());
  redis_script script("return ARGV[1]");
  CHECK(script.run(client, {}, {"one"}).text == "one");
  client.checked({"SCRIPT", "FLUSH"});
  CHECK(script.run(client, {}, {"two"}).text == "two");
}

TEST_CASE("connecting to a closed port is a redis_error") {
  CHECK_THROWS_AS(redis_client("redis://127.0.0.1:1/0"), cqrs::projections::redis_error);
}

TEST_CASE("a client whose connection was killed fails that call, then connects again") {
  redis_client victim(cqrs::tests::redis_url());
  redis_client killer(cqrs::tests::redis_url());
  const auto id = victim.checked({"CLIENT", "ID"}).integer;
  killer.checked({"CLIENT", "KILL", "ID", std::to_string(id)});
  CHECK_THROWS_AS(victim.command({"PING"}), cqrs::projections::redis_error);
  CHECK(victim.checked({"PING"}).text == "PONG");
  CHECK(victim.checked({"CLIENT", "ID"}).integer != id);
}

TEST_CASE("a script run in a pipeline after the server forgot it is loaded again on request") {
  redis_client client(cqrs::tests::redis_url());
  redis_script script("return ARGV[1]");
  script.sha(client);
  client.checked({"SCRIPT", "FLUSH"});
  client.append(script.evalsha_args({}, {"x"}));
  const auto lost = client.read_reply();
  CHECK(redis_script::is_noscript(lost));
  script.forget();
  script.sha(client);
  client.append(script.evalsha_args({}, {"y"}));
  CHECK(client.read_reply().text == "y");
}

TEST_CASE("evaluate runs a script by its SHA1 and loads it again after the server forgot it") {
  redis_client client(cqrs::tests::redis_url());
  const std::string key = "test:evaluate:" + cqrs::tests::run_id();
  const std::string source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  CHECK(client.evaluate(source, {key}, {"2"}).integer == 2);
  CHECK(client.evaluate(source, {key}, {"3"}).integer == 5);
  client.checked({"SCRIPT", "FLUSH"});
  CHECK(client.evaluate(source, {key}, {"4"}).integer == 9);
  CHECK_THROWS_AS(client.evaluate("return redis.error_reply('no')", {}, {}), cqrs::projections::redis_error);
  client.checked({"DEL", key});
}
