#pragma once

// Reading requests from bytes: Beast's parser, the framing checks Beast 1.81 leaves out, and the
// conversion to http_request. Synchronous and socket-free, so that the server (http_server.cpp,
// which feeds it from its reads) and the fuzzing harness (tests/fuzz/http_request.cpp) run the
// same code. Includes Beast's HTTP parser: include it only from those two.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/gateway_config.hpp"
#include "gateway/http_types.hpp"
#include "gateway/request_target.hpp"

namespace cqrs::gateway::detail {

using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The answer's detail when the target is not valid origin form.
inline constexpr std::string_view invalid_target = "the request target is not a valid origin-form URL (RFC 3986)";

// A parser for one request, with the server's limits.
inline void limit(request_parser& parser, const server_limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
}

// What offering buffered bytes to the parser came to: the parser wants more, holds a whole
// request, or the request is refused (with the status and detail of the answer).
struct read_step {
  enum class kind { more, request, refused };
  kind what = kind::more;
  int status = 0;
  std::string detail;
};

// --- request conversion -------------------------------------------------------------------------

// The target's path and query (request_target.hpp: Boost.URL); false when it is not valid.
inline bool split_target(http_request& request) {
  auto target = parse_request_target(request.target);
  if (!target) return false;
  request.path = std::move(target->path);
  request.segments = std::move(target->segments);
  request.query = std::move(target->query);
  return true;
}

inline std::string lowercase(std::string_view name) {
  std::string out(name);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <class Header>
http_request request_head(const Header& header, const std::string& remote) {
  http_request request;
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  request.remote_address = remote;
  for (const auto& field : header) {
    request.headers.emplace_back(lowercase(field.name_string()), std::string(field.value()));
  }
  return request;
}

// A whole request as the router takes it, body included; false when its target is not valid
// origin form (the request is filled all the same, for the refusal).
template <class Message>
bool to_request(Message&& message, const std::string& remote, http_request& out) {
  out = request_head(message.base(), remote);
  out.body = std::move(message.body());
  return split_target(out);
}

// What is known of a request the server refuses: its head when that was parsed, else only who sent it.
inline http_request refused_request(const request_parser& parser, const std::string& remote) {
  if (!parser.is_header_done()) {
    http_request request;
    request.remote_address = remote;
    return request;
  }
  auto request = request_head(parser.get().base(), remote);
  if (!split_target(request)) request.path = request.target;
  return request;
}

// --- request framing ----------------------------------------------------------------------------

// Where a request ends must be read the same way by every hop, or a body can smuggle a request of
// its own (RFC 9112 §6.3, §11.2). Beast 1.81 reads a Transfer-Encoding that does not end in
// "chunked" as "no body", accepts a repeated identical Content-Length, and unfolds obsolete line
// folding: each is refused here (400, then the connection closes, as for any framing error).

inline std::string_view trim_whitespace(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

inline bool is_decimal(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Nothing when the head frames its body one way only: by one Content-Length, or by exactly
// "Transfer-Encoding: chunked" (the only coding the server decodes) on HTTP/1.1; and names its
// host once (RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host and to
// any request with more than one, which hops could each read differently).
template <class Header>
std::optional<std::string> framing_fault(const Header& header) {
  namespace http = boost::beast::http;
  std::size_t lengths = 0;
  std::size_t encodings = 0;
  std::size_t hosts = 0;
  bool chunked_only = true;
  for (const auto& field : header) {
    if (field.name() == http::field::host) {
      ++hosts;
    } else if (field.name() == http::field::content_length) {
      ++lengths;
      if (!is_decimal(trim_whitespace(field.value()))) return "Content-Length must be one decimal number";
    } else if (field.name() == http::field::transfer_encoding) {
      ++encodings;
      chunked_only = chunked_only && boost::beast::iequals(trim_whitespace(field.value()), "chunked");
    }
  }
  if (hosts > 1) return "Host given more than once";
  if (hosts == 0 && header.version() >= 11) return "Host missing from an HTTP/1.1 request";
  if (lengths > 1) return "Content-Length given more than once";
  if (encodings == 0) return std::nullopt;
  if (header.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
  if (lengths > 0) return "both Transfer-Encoding and Content-Length";
  if (encodings > 1 || !chunked_only) return "unsupported Transfer-Encoding: only chunked is accepted";
  return std::nullopt;
}

// How far one request's head has been looked at for obsolete folding.
struct fold_scan {
  std::size_t from = 0;     // bytes of the buffer already looked at
  bool line_start = false;  // the parser took whole lines of the head: the buffer starts a line
};

// A line of the head that starts with a space or a tab continues the one before (obs-fold, RFC
// 9112 §5.2). Looked for in the raw bytes, since the parser hands over the value already unfolded.
// `scan.from` is where the previous look stopped: a head that arrives in many small reads is
// scanned once, not once per read.
inline bool has_obsolete_fold(std::string_view head, fold_scan& scan) {
  if (scan.line_start && scan.from == 0) {
    // The line before was taken by the parser: a space or a tab here continues it, and a CRLF
    // here is the blank line, the end of the head (a body's "\r\n " is only data).
    if (head.starts_with(' ') || head.starts_with('\t')) return true;
    if (head.starts_with("\r\n")) {
      scan.from = head.size();
      return false;
    }
  }
  for (std::size_t i = scan.from; i + 2 < head.size(); ++i) {
    if (head[i] != '\r' || head[i + 1] != '\n') continue;
    if (head[i + 2] == ' ' || head[i + 2] == '\t') return true;
    if (head[i + 2] == '\r') {  // the blank line: the head ends here, what follows is body
      // Until the blank line's LF is buffered the head is not whole, and the next look must
      // start here again, not in the body.
      scan.from = i + 3 < head.size() ? head.size() : i;
      return false;
    }
  }
  scan.from = head.size() < 2 ? 0 : head.size() - 2;  // a CRLF at the end is looked at again
  return false;
}

// The answer to a parse error.
inline read_step refusal_for(const boost::system::error_code& ec) {
  namespace http = boost::beast::http;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return {read_step::kind::refused, 431, "request header fields too large"};
  }
  if (ec == http::error::body_limit) return {read_step::kind::refused, 413, "request body too large"};
  return {read_step::kind::refused, 400, "malformed request: " + ec.message()};
}

// Beast 1.81's chunk parser asserts that it sees at least 5 bytes when it comes back to a last
// chunk it has already found ("0\r\n", then one more byte: a client's ordinary split), which
// aborts the process (assertions are on in the engine's builds); later Beast releases drop the
// assertion, the code after it being right. So a chunked body's bytes are offered only once 5 are
// buffered, the shortest last chunk ("0\r\n\r\n"): the parser finishes a chunked body only on a
// last chunk and the blank line after it, all buffered at once, so it never waits longer for this.
constexpr std::size_t shortest_last_chunk = 5;

// Offers what `buffer` holds to `parser` (one request's), consuming what it takes. `fold` belongs
// to the request too: how far its head has been looked at for obsolete folding.
inline read_step offer(request_parser& parser, boost::beast::flat_buffer& buffer, fold_scan& fold) {
  namespace http = boost::beast::http;
  while (buffer.size() > 0) {
    if (parser.is_header_done() && parser.chunked() && buffer.size() < shortest_last_chunk) break;
    const bool had_header = parser.is_header_done();
    // The parser takes the head a whole line at a time, so the buffer starts at a line of it.
    const std::string_view buffered(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!had_header && has_obsolete_fold(buffered, fold)) {
      return {read_step::kind::refused, 400, "obsolete line folding in the request head"};
    }
    boost::system::error_code ec;
    const auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (!parser.is_header_done() && used > 0) fold = {0, true};  // the head moved in the buffer
    if (ec && ec != http::error::need_more) return refusal_for(ec);
    if (!had_header && parser.is_header_done()) {
      if (auto fault = framing_fault(parser.get().base())) return {read_step::kind::refused, 400, std::move(*fault)};
    }
    if (!ec && parser.is_done()) return {read_step::kind::request, 0, {}};
    if (ec || used == 0) break;  // the parser needs more than the buffer holds
  }
  return {};
}

}  // namespace cqrs::gateway::detail
