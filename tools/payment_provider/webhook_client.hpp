#pragma once

// Delivers one signed webhook (a POST with Provider-Signature, core/security/webhook_signature.hpp)
// over HTTP or HTTPS with Beast, retrying with a growing delay until the receiver answers 2xx or the
// attempts run out. Each attempt is signed anew with the current time, so a late retry is not
// refused as stale and no retry is refused as a replay.

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "core/log.hpp"

namespace cqrs::tools::payment_provider {

struct webhook_target {
  std::string url;  // http[s]://host[:port]/path
  std::string secret;
  std::string ca_file;  // https: the CA file that signs the receiver's certificate; empty: the system's
  int attempts = 8;
  // Doubled after each failure, up to 30 s. At least a second: the signature's timestamp is in whole
  // seconds, and a retry must carry a new one, or a receiver that recorded the failed attempt in its
  // replay cache would refuse the retry as a replay.
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds attempt_timeout{5000};
};

// True once the receiver answered 2xx. Runs on the caller's executor.
boost::asio::awaitable<bool> deliver_webhook(const webhook_target& target, std::string body, const core::logger& log);

}  // namespace cqrs::tools::payment_provider
