#pragma once

// A time limit that really cancels an Asio operation rather than just stop waiting for it.
//
// with_time_limit(op, limit) runs `op` and a timer side by side (Asio's awaitable operator ||,
// a parallel group): whichever finishes first cancels the other through its cancellation slot.
// When the timer wins, the operation `op` is suspended in (a socket read, a Beast async_read,
// a resolve) completes with operation_aborted and `op` unwinds before with_time_limit returns;
// no handler runs later against a socket the caller has moved on from. Any operation that
// supports per-operation cancellation works (every socket and stream operation on Linux does).
//
// Code that is not a coroutine gets the same effect from a steady_timer whose handler closes the
// socket or stream (the Beast examples' `expires_after`), which aborts every pending operation
// on it.

#include <optional>
#include <utility>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/resilience/clock.hpp"

namespace cqrs::core::resilience {

// The operation's result, or nothing when the limit passed first (the operation was cancelled).
template <typename T>
boost::asio::awaitable<std::optional<T>> with_time_limit(boost::asio::awaitable<T> op, duration limit) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  auto first = co_await (std::move(op) || timer.async_wait(boost::asio::use_awaitable));
  if (first.index() == 0) co_return std::optional<T>(std::get<0>(std::move(first)));
  co_return std::nullopt;
}

// For an operation without a result: true when it completed, false when the limit passed first.
inline boost::asio::awaitable<bool> with_time_limit(boost::asio::awaitable<void> op, duration limit) {
  using namespace boost::asio::experimental::awaitable_operators;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
  auto first = co_await (std::move(op) || timer.async_wait(boost::asio::use_awaitable));
  co_return first.index() == 0;
}

}  // namespace cqrs::core::resilience
