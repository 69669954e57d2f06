// A connected byte stream to a server, TCP or TLS over TCP, as net::connect (net/connect.hpp)
// yields it.
//
// This header names no Beast or OpenSSL type: a broker transport moves its frames with the
// stream's own `async_read_some` / `async_write_some` (an Asio AsyncReadStream and
// AsyncWriteStream, type-erased once per operation), and compiles without those headers.
// Code that runs Beast over the stream itself, without that indirection (the HTTP exchange),
// reaches the concrete layers through net/stream_layers.hpp.
#ifndef COURIER_SRC_NET_STREAM_HPP
#define COURIER_SRC_NET_STREAM_HPP

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>

namespace courier::net {

/// Move-only. Destroying it (or `close`) closes the socket at once, without TLS close_notify:
/// courier's peers (HTTP keep-alive servers, brokers) do not need it, and waiting for it
/// would let a dead peer hold the close.
///
/// Completion: handlers of `async_read_some` and `async_write_some` run on the stream's
/// executor (the one given to net::connect), whatever executor they are associated with:
/// connect with the executor (strand) you await on.
///
/// Thread safety: as an Asio socket (one operation of each kind at a time, on one strand).
class stream
{
public:
    using executor_type = boost::asio::any_io_executor;
    using io_handler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

    struct layers;
    /// No connection (what co_spawn hands a completion handler along with an exception).
    stream() noexcept;
    explicit stream(std::unique_ptr<layers> l) noexcept;
    stream(stream&&) noexcept;
    stream& operator=(stream&&) noexcept;
    ~stream();

    executor_type get_executor() const noexcept;
    bool tls() const noexcept;
    /// Closes the socket; pending operations complete with operation_aborted.
    void close() noexcept;

    /// Reads into the first non-empty buffer of `buffers`. Cancellation: terminal (as the
    /// socket or the TLS stream underneath).
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](io_handler handler, boost::asio::mutable_buffer b) { start_read(b, std::move(handler)); }, token,
            first(buffers));
    }

    /// Writes from the first non-empty buffer of `buffers`. Cancellation: as `async_read_some`.
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](io_handler handler, boost::asio::const_buffer b) { start_write(b, std::move(handler)); }, token,
            first_const(buffers));
    }

    /// The concrete layers (net/stream_layers.hpp), for code compiled with Beast.
    layers& native() noexcept { return *layers_; }

private:
    template <class Sequence> static boost::asio::mutable_buffer first(const Sequence& buffers)
    {
        for (auto i = boost::asio::buffer_sequence_begin(buffers); i != boost::asio::buffer_sequence_end(buffers); ++i)
            if (boost::asio::mutable_buffer b(*i); b.size() != 0)
                return b;
        return {};
    }
    template <class Sequence> static boost::asio::const_buffer first_const(const Sequence& buffers)
    {
        for (auto i = boost::asio::buffer_sequence_begin(buffers); i != boost::asio::buffer_sequence_end(buffers); ++i)
            if (boost::asio::const_buffer b(*i); b.size() != 0)
                return b;
        return {};
    }

    void start_read(boost::asio::mutable_buffer b, io_handler handler);
    void start_write(boost::asio::const_buffer b, io_handler handler);

    std::unique_ptr<layers> layers_;
};

} // namespace courier::net

#endif
