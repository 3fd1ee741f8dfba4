#pragma once

// Opening a listening TCP socket the way every server of the engine does (the gateway's HTTP
// server, core's metrics endpoint): address reuse on, the system's backlog, one exception naming
// the address when any step fails. Header-only; includes Asio's TCP types.

#include <system_error>

#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

namespace cqrs::core {

// Opens, binds and listens `acceptor` on `endpoint`; std::system_error ("cannot listen on
// ADDRESS:PORT") when the address is taken or not available.
inline void listen_on(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint) {
  namespace net = boost::asio;
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::system_error(static_cast<std::error_code>(ec),
                            fmt::format("cannot listen on {}:{}", endpoint.address().to_string(), endpoint.port()));
  }
}

}  // namespace cqrs::core
