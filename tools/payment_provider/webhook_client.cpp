#include "tools/payment_provider/webhook_client.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/https_client.hpp"
#include "core/security/webhook_signature.hpp"

namespace cqrs::tools::payment_provider {

namespace asio = boost::asio;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

// One attempt, signed with the current time: the HTTP status, or 0 when there was no answer.
asio::awaitable<unsigned> post_once(const core::https_client& client, const core::http_endpoint& to,
                                    const webhook_target& target, const std::string& body) {
  core::http_call call{"POST", "", {}, body};
  call.headers.emplace_back(std::string(core::security::webhook_signature_header),
                            core::security::sign_webhook(target.secret, core::security::unix_now(), body));
  const auto reply = co_await client.async_send(to, std::move(call), target.attempt_timeout);
  co_return reply.result == core::http_reply::outcome::answered ? reply.status : 0u;
}

}  // namespace

asio::awaitable<bool> deliver_webhook(const webhook_target& target, std::string body, const core::logger& log) {
  const auto to = core::parse_http_endpoint(target.url);  // validated by the settings
  // What curl does with --cacert: the chain verified against the CA file (else the system's
  // store), the certificate's name against the host.
  const core::https_client client({.ca_file = target.ca_file, .connect_timeout = target.attempt_timeout});
  auto delay = target.first_retry;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 1; attempt <= target.attempts; ++attempt) {
    const auto status = co_await post_once(client, to, target, body);
    if (status >= 200 && status < 300) co_return true;
    log.warn("webhook not accepted", {{"url", target.url}, {"status", status}, {"attempt", attempt}});
    if (attempt == target.attempts) break;
    timer.expires_after(delay);
    co_await timer.async_wait(no_throw);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
  }
  log.error("webhook given up", {{"url", target.url}, {"attempts", target.attempts}});
  co_return false;
}

}  // namespace cqrs::tools::payment_provider
