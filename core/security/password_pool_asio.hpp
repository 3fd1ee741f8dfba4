#pragma once

// The password pool for Boost.Asio callers (the gateway): the completion handler is posted to the
// caller's executor (a connection's strand, say) instead of running on the pool's thread, so the
// I/O side never waits and never does password work.
//
//   const auto admitted = verify_then(pool, stored, password, strand, [](verify_outcome r) { ... });
//   if (admitted == admission::refused) { /* 503, Retry-After: pool.retry_after_hint() */ }
//
// Handlers must be copyable (they travel in a std::function).

#include <string>
#include <utility>

#include <boost/asio/post.hpp>

#include "core/security/password_pool.hpp"

namespace cqrs::core::security {

template <typename Executor, typename Handler>
admission hash_then(password_pool& pool, std::string password, Executor executor, Handler handler) {
  return pool.hash(std::move(password), [executor, handler](hash_outcome outcome) mutable {
    boost::asio::post(executor, [handler, outcome = std::move(outcome)]() mutable { handler(std::move(outcome)); });
  });
}

template <typename Executor, typename Handler>
admission verify_then(password_pool& pool, std::string stored_hash, std::string password, Executor executor,
                      Handler handler) {
  return pool.verify(std::move(stored_hash), std::move(password), [executor, handler](verify_outcome outcome) mutable {
    boost::asio::post(executor, [handler, outcome = std::move(outcome)]() mutable { handler(std::move(outcome)); });
  });
}

}  // namespace cqrs::core::security
