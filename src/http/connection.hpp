// The HTTP client's transport seam: a `connector` opens `connection`s, and a connection runs
// one request/response exchange at a time. The client (pool, retries of stale connections,
// deadlines on courier::clock) sees only these two interfaces.
//
// Production uses the network connector (http/network_connector.hpp: TCP or TLS through
// net::connect, Beast over the concrete stream); tests put an in-memory transport here
// (tests/unit/memory_transport.hpp) that scripts the server's bytes and fails any step.
// The indirection costs one virtual call per connection opened and one per exchange, never
// one per byte: each connection runs http::exchange (http/exchange.hpp) compiled for its own
// stream type.
#ifndef COURIER_SRC_HTTP_CONNECTION_HPP
#define COURIER_SRC_HTTP_CONNECTION_HPP

#include "http/endpoint.hpp"
#include "http/message.hpp"
#include "http/wire.hpp"

#include <courier/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace courier::http {

/// What a response may be.
struct response_limits
{
    std::size_t max_body = 32u << 20;
    std::size_t max_header = 64u << 10;
};

/// How an exchange ended: a response, or a failure described for the caller's error.
struct exchange_result
{
    /// Empty on success; otherwise what failed (operation_aborted when cancelled).
    boost::system::error_code ec;
    /// Failed while the request was being written (else while the response was read).
    bool writing = true;
    /// The connection had been closed by the peer before any byte of the response arrived
    /// (EOF, reset, a truncated TLS stream): on a reused keep-alive connection, the server
    /// dropped it while idle and never read the request.
    bool stale = false;
    /// On failure: errc::transport_failed or errc::bad_response, and the description
    /// ("read failed: ...", "malformed HTTP response: ...", "read timeout after N ms").
    errc code = errc::transport_failed;
    std::string what;

    response answer;         ///< on success
    bool keep_alive = false; ///< on success: the connection may serve the next request
};

/// For connection implementations: fills `out`'s failure fields (code, description,
/// staleness) from `out.ec` and `out.writing`, for an exchange that had received some of the
/// response (`got_bytes`) or none. `timeout` is the deadline the connection's own timer
/// enforced, for the description.
void describe_failure(exchange_result& out, bool got_bytes, const response_limits& limits,
                      std::chrono::milliseconds timeout);

/// One open connection to the endpoint.
///
/// Thread safety: used by one exchange at a time, on the client's executor.
class connection
{
public:
    virtual ~connection() = default; ///< closes the connection

    /// Writes `req` and reads the whole response into `out` (`out` is written as the
    /// exchange goes, so a caller whose own deadline cancelled it still learns the step).
    /// `timeout`, if not zero, bounds the whole exchange on the connection's own timers;
    /// zero leaves deadlines to the caller. Never throws for a transport or protocol
    /// failure: `out.ec` says what happened. Cancellation: terminal (then operation_aborted).
    virtual boost::asio::awaitable<void> exchange(const wire_request& req, const response_limits& limits,
                                                  std::chrono::milliseconds timeout, exchange_result& out) = 0;

    /// Closes the connection; a failure to close is of no consequence to the client (the
    /// connection is not used again either way) and is ignored.
    virtual void close() noexcept = 0;
};

/// Opens connections to one endpoint.
///
/// Thread safety: `connect` is called on the client's executor only.
class connector
{
public:
    virtual ~connector() = default;

    /// Opens a connection to `remote`. `timeout`, if not zero, bounds it on the connector's
    /// own timers (zero: the caller's deadline). Throws `courier::error`
    /// (errc::transport_failed, naming the endpoint and the failed step); cancellation:
    /// `boost::system::system_error` (operation_aborted).
    virtual boost::asio::awaitable<std::unique_ptr<connection>> connect(boost::asio::any_io_executor executor,
                                                                        const endpoint& remote,
                                                                        std::chrono::milliseconds timeout) = 0;
};

} // namespace courier::http

#endif
