// The HTTP/1.1 client courier uses to talk to SQS, SNS, STS and the credential endpoints.
//
// One `client` talks to one endpoint (scheme, host, port) through a bounded pool of
// keep-alive connections, plain or TLS. Requests and responses are plain structs
// (http/message.hpp); Beast and OpenSSL stay in the files that implement connections.
// Signing is the caller's job: `endpoint::host_header` is the exact Host value the client
// sends, so SigV4 can sign what goes on the wire.
#ifndef COURIER_HTTP_CLIENT_HPP
#define COURIER_HTTP_CLIENT_HPP

#include "http/endpoint.hpp"
#include "http/message.hpp"

#include <courier/clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace courier::http {

class connector;

/// Settings of a client. Durations are milliseconds.
struct client_options
{
    /// Connections open at once to the endpoint, idle ones included; callers beyond this wait
    /// for a connection to be released. Default 16. Must be at least 1.
    std::size_t max_connections = 16;
    /// Deadline for TCP connect plus TLS handshake. Default 10 s. Name resolution is bounded
    /// by the system resolver's own timeouts only.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Deadline for writing a request and reading its response, used by `send(request)`.
    /// Default 30 s.
    std::chrono::milliseconds request_timeout{30'000};
    /// Idle pooled connections older than this are closed instead of reused, because servers
    /// and load balancers drop idle keep-alive connections (commonly after 60 s). 0 disables
    /// reuse. Default 20 s.
    std::chrono::milliseconds idle_timeout{20'000};
    /// Largest response body accepted; a bigger one fails with errc::bad_response.
    /// Default 32 MiB: a ReceiveMessage answer holds up to 10 messages of up to 1 MiB each,
    /// plus attributes and JSON escaping.
    std::size_t max_response_body = 32u << 20;
    /// Largest response header section accepted. Default 64 KiB.
    std::size_t max_response_header = 64u << 10;
    /// PEM file of trusted certificate authorities. Empty: the system store.
    std::string ca_file;
    /// Verify the server's certificate chain and host name. Default true; turn off only for
    /// local test servers.
    bool verify_peer = true;
    /// Where connections come from (http/connection.hpp). Null: TCP, or TLS for https, with
    /// `ca_file` and `verify_peer` (http/network_connector.hpp). Tests put an in-memory
    /// transport here.
    std::shared_ptr<connector> transport;
    /// The time of the connect and request deadlines and of `idle_timeout`. Null, or
    /// courier::steady_clock(): real time, the deadlines kept by the sockets' own timers
    /// (nothing per request beyond what a socket timeout costs). Any other clock (a
    /// simulated_clock in tests): each deadline is a sleep on that clock raced against the
    /// step, so timeouts happen in the clock's time.
    std::shared_ptr<courier::clock> clock;
};

/// A keep-alive HTTP/1.1 client for one endpoint.
///
/// @par Connections
/// At most `max_connections` connections are open; a `send` that finds none idle and the
/// limit reached waits (in FIFO order) for one to be released, so waiting callers are the
/// only queue. A connection that failed, timed out, was cancelled or got `Connection: close`
/// is closed, never reused. If a reused connection fails with EOF or reset before any byte
/// of the response arrived (the server closed it while idle), the request is sent once more
/// on a new connection. TLS: 1.2 or newer, SNI, chain and host-name verification on by
/// default.
///
/// @par Errors
/// `send` throws `courier::error`: errc::transport_failed for resolve, connect, TLS, write
/// and read failures and timeouts; errc::bad_response for a malformed or oversized response.
/// The description names the endpoint and the failing step, never request headers or body.
///
/// @par Cancellation
/// Terminal, partial or total cancellation of the awaiting coroutine aborts the request (or
/// its wait for a connection) promptly; the connection is closed. It then throws
/// `boost::system::system_error` with `boost::asio::error::operation_aborted`.
///
/// @par Thread safety
/// The pool is only touched on the client's executor: every `send` runs there. `send` may be
/// awaited by any number of coroutines at once, on any executor, provided the client's
/// executor runs handlers one at a time (a strand, or an io_context run by one thread).
/// `stats()` and `close_idle()` must be called on that executor. Moving or destroying a client
/// is not thread-safe; requests in flight keep the pool alive until they finish.
///
/// @par Lifetime
/// The client (and any request in flight) must end before its execution context is destroyed.
class client
{
public:
    /// Throws `courier::error` (errc::bad_configuration) for invalid options or an unreadable
    /// CA file.
    client(boost::asio::any_io_executor executor, endpoint remote, client_options options = {});
    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Sends `req` and reads the complete response. `timeout` bounds writing the request plus
    /// reading the response (not the connect, not the wait for a pooled connection): a long
    /// poll of WaitTimeSeconds=20 needs 20 s plus a margin. Throws std::invalid_argument if
    /// the method, target or a header field is empty or contains CR or LF.
    boost::asio::awaitable<response> send(request req, std::chrono::milliseconds timeout);
    /// As above with `client_options::request_timeout`.
    boost::asio::awaitable<response> send(request req);
    /// As `send`, but run in the calling coroutine instead of a coroutine of its own: saves
    /// a co_spawn and two executor hops per request. Only for a caller that already runs
    /// on this client's executor in a coroutine of its own (aws::signed_client hops to its
    /// strand once per call); cancellation then follows the caller's own filter (the
    /// default lets only terminal cancellation through, the only kind Beast honours).
    boost::asio::awaitable<response> send_on_executor(request req, std::chrono::milliseconds timeout);

    const endpoint& remote() const noexcept;
    const client_options& options() const noexcept;
    const boost::asio::any_io_executor& get_executor() const noexcept;

    /// A snapshot of the pool, for tests and metrics.
    struct pool_stats
    {
        std::size_t open = 0;    ///< connections open or being opened, idle ones included
        std::size_t idle = 0;    ///< open connections waiting in the pool
        std::size_t waiting = 0; ///< senders waiting for a connection
    };
    pool_stats stats() const noexcept;

    /// Closes the idle connections (before a long pause, or at shutdown).
    void close_idle() noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace courier::http

#endif
