// Connecting to a server: name resolution, TCP connect under a deadline, and optionally a
// TLS handshake (SNI, certificate-chain and host-name verification, TLS 1.2 or newer).
// Shared by every courier transport that talks to a server over TCP: the HTTP client (SQS,
// SNS, the credential endpoints) and the broker transports.
//
//     auto tls = std::make_shared<const net::tls_context>(net::tls_context::options{}, "broker:61614");
//     net::stream s = co_await net::connect(ex, {.host = "broker", .port = 61614, .tls = tls});
//     co_await asio::async_write(s, asio::buffer(frame), asio::use_awaitable);
#ifndef COURIER_SRC_NET_CONNECT_HPP
#define COURIER_SRC_NET_CONNECT_HPP

#include "net/stream.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace courier::net {

/// Where and how to connect.
struct connect_options
{
    /// Host name or address (IPv6 without brackets). A name is resolved; an address is not.
    std::string host;
    std::uint16_t port = 0;
    /// Deadline of the TCP connect plus the TLS handshake, on the socket's own timer (real
    /// time); zero: none (the caller has its own). Name resolution is bounded by the system
    /// resolver's own timeouts only.
    std::chrono::milliseconds timeout{10'000};
    /// TLS settings; null: plain TCP. The host name (never an address: RFC 6066) goes out
    /// as SNI and, with `verify_peer`, is what the certificate must name.
    std::shared_ptr<const tls_context> tls;
    /// What error descriptions start with, e.g. the HTTP Host value. Empty: "host:port".
    std::string name;
};

/// Connects, and completes the TLS handshake when `options.tls` is set.
///
/// Errors: throws `courier::error` with errc::transport_failed, its description naming the
/// server and the failed step: "<name>: resolve failed: ...", "connect failed: ...",
/// "connect timeout after N ms", "TLS handshake: certificate verify failed (hostname
/// mismatch)", "TLS handshake timeout after N ms", ...
///
/// Cancellation: terminal cancellation of the awaiting coroutine aborts the step in progress
/// and throws `boost::system::system_error` (operation_aborted).
boost::asio::awaitable<stream> connect(boost::asio::any_io_executor executor, connect_options options);

} // namespace courier::net

#endif
