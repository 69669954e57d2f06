// The byte stream a broker connection runs over, and how it is opened.
//
// The STOMP and AMQP connection coroutines read and write through `byte_stream` and open it
// with a `connector`, so that TLS plugs in without touching them: a TLS connector (the TLS
// connect unit being extracted from src/http/client.cpp) returns a stream that handshakes
// before it is handed over. `connect_tcp` is the plain one.
#ifndef COURIER_SRC_BROKER_STREAM_HPP
#define COURIER_SRC_BROKER_STREAM_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace courier::broker {

/// A connected, ordered byte stream. Errors are thrown as `courier::error`
/// (errc::transport_failed) naming the peer; end of stream too.
class byte_stream
{
public:
    virtual ~byte_stream() = default;
    /// Reads at least one byte into `buffer`; returns how many.
    virtual boost::asio::awaitable<std::size_t> read_some(char* buffer, std::size_t size) = 0;
    /// Writes all of `bytes`.
    virtual boost::asio::awaitable<void> write(std::string_view bytes) = 0;
    /// Closes at once; pending operations end with an error. Never throws.
    virtual void close() noexcept = 0;
};

/// Opens a stream to host:port within `timeout` (connect, and a TLS handshake where there
/// is one). Throws `courier::error` (errc::transport_failed).
using connector = std::function<boost::asio::awaitable<std::unique_ptr<byte_stream>>(
    boost::asio::any_io_executor, std::string host, std::uint16_t port, std::chrono::milliseconds timeout)>;

/// Plain TCP (resolve, connect with the timeout, TCP_NODELAY).
boost::asio::awaitable<std::unique_ptr<byte_stream>> connect_tcp(boost::asio::any_io_executor executor,
                                                                 std::string host, std::uint16_t port,
                                                                 std::chrono::milliseconds timeout);

/// Throws `boost::system::system_error` (operation_aborted) if the calling coroutine was
/// cancelled. An `async_event` wait ends quietly when cancelled; a loop around one calls this
/// after it, or it would wait again and never let a parallel group (`||`) finish.
boost::asio::awaitable<void> throw_if_cancelled();

/// The reconnection delay before attempt `attempt` (0-based): base·2^attempt capped at
/// `max`, jittered within [d/2, d] so that clients dropped together do not return together.
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max);

} // namespace courier::broker

#endif
