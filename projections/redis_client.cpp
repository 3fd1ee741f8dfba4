#include "projections/redis_client.hpp"

#include <charconv>

#include <sys/time.h>

#include <fmt/format.h>

namespace cqrs::projections {

namespace {

int parse_number(std::string_view text, std::string_view url) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw std::invalid_argument(fmt::format("bad number '{}' in Redis URL '{}'", text, url));
  }
  return value;
}

timeval to_timeval(std::chrono::milliseconds duration) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
  return timeval{static_cast<decltype(timeval::tv_sec)>(seconds.count()),
                 static_cast<decltype(timeval::tv_usec)>((duration - seconds).count() * 1000)};
}

struct reply_deleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

}  // namespace

redis_reply from_hiredis(const redisReply* raw) {
  redis_reply reply;
  switch (raw->type) {
    case REDIS_REPLY_INTEGER:
      reply.type = redis_reply::kind::integer;
      reply.integer = raw->integer;
      break;
    case REDIS_REPLY_STRING:
      reply.type = redis_reply::kind::text;
      break;
    case REDIS_REPLY_STATUS:
      reply.type = redis_reply::kind::status;
      break;
    case REDIS_REPLY_ERROR:
      reply.type = redis_reply::kind::error;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = redis_reply::kind::array;
      break;
    default:
      reply.type = redis_reply::kind::nil;
      break;
  }
  if (raw->str != nullptr) reply.text.assign(raw->str, raw->len);
  reply.elements.reserve(raw->elements);
  for (std::size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(from_hiredis(raw->element[i]));
  return reply;
}

redis_endpoint parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) throw std::invalid_argument(fmt::format("not a redis:// URL: '{}'", url));
  std::string_view rest = url.substr(scheme.size());
  redis_endpoint endpoint;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 < rest.size()) endpoint.database = parse_number(rest.substr(slash + 1), url);
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    endpoint.port = parse_number(rest.substr(colon + 1), url);
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) endpoint.host = std::string(rest);
  return endpoint;
}

redis_client::redis_client(std::string_view url, redis_timeouts timeouts)
    : endpoint_(parse_redis_url(url)), timeouts_(timeouts) {
  connect();
}

void redis_client::connect() {
  broken_ = false;
  context_.reset(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(timeouts_.connect)));
  if (!context_ || context_->err != 0) fail("connect");
  // Bounds every later write and read (SO_SNDTIMEO, SO_RCVTIMEO): a timeout is a failed call.
  if (redisSetTimeout(context_.get(), to_timeval(timeouts_.command)) != REDIS_OK) fail("set timeout");
  if (endpoint_.database != 0) checked({"SELECT", std::to_string(endpoint_.database)});
}

void redis_client::set_command_timeout(std::chrono::milliseconds timeout) {
  timeouts_.command = timeout;
  if (context_ && !broken_ && redisSetTimeout(context_.get(), to_timeval(timeout)) != REDIS_OK) fail("set timeout");
}

// Every failure that reaches here is the connection's (error replies are values): the context
// cannot be used again, and hiredis would fail every later call on it.
void redis_client::fail(std::string_view what) {
  const std::string reason = context_ ? context_->errstr : "out of memory";
  broken_ = true;
  throw redis_error(fmt::format("redis {}: {}", what, reason));
}

void redis_client::append(const std::vector<std::string>& args) {
  if (broken_) connect();
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(), lengths.data()) != REDIS_OK) {
    fail("append");
  }
}

redis_reply redis_client::read_reply() {
  if (broken_) throw redis_error("redis read: the connection failed earlier in this pipeline");
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) fail("read");
  const reply_ptr owned(static_cast<redisReply*>(raw));
  return from_hiredis(owned.get());
}

redis_reply redis_client::command(const std::vector<std::string>& args) {
  append(args);
  return read_reply();
}

redis_reply redis_client::checked(const std::vector<std::string>& args) {
  auto reply = command(args);
  if (reply.is_error()) throw redis_error(fmt::format("redis {}: {}", args.empty() ? "" : args.front(), reply.text));
  return reply;
}

redis_reply redis_client::evaluate(const std::string& source, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  auto known = script_shas_.find(source);
  if (known == script_shas_.end()) known = script_shas_.emplace(source, checked({"SCRIPT", "LOAD", source}).text).first;
  std::vector<std::string> call{"EVALSHA", known->second, std::to_string(keys.size())};
  call.insert(call.end(), keys.begin(), keys.end());
  call.insert(call.end(), args.begin(), args.end());
  auto reply = command(call);
  if (redis_script::is_noscript(reply)) {
    known->second = checked({"SCRIPT", "LOAD", source}).text;
    call[1] = known->second;
    reply = command(call);
  }
  if (reply.is_error()) throw redis_error("redis script: " + reply.text);
  return reply;
}

const std::string& redis_script::sha(redis_client& client) {
  if (sha_.empty()) sha_ = client.checked({"SCRIPT", "LOAD", source_}).text;
  return sha_;
}

std::vector<std::string> redis_script::evalsha_args(const std::vector<std::string>& keys,
                                                    const std::vector<std::string>& args) const {
  std::vector<std::string> all{"EVALSHA", sha_, std::to_string(keys.size())};
  all.insert(all.end(), keys.begin(), keys.end());
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

redis_reply redis_script::run(redis_client& client, const std::vector<std::string>& keys,
                              const std::vector<std::string>& args) {
  sha(client);
  auto reply = client.command(evalsha_args(keys, args));
  if (is_noscript(reply)) {
    sha_.clear();
    sha(client);
    reply = client.command(evalsha_args(keys, args));
  }
  if (reply.is_error()) throw redis_error("redis script: " + reply.text);
  return reply;
}

}  // namespace cqrs::projections
