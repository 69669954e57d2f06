// One HTTP/1.1 request/response exchange over any Asio stream, with Beast's response parser.
// A template so that each connection type runs it over its own concrete stream (a socket, a
// TLS stream, the tests' in-memory stream) with no indirection per read or write.
//
// Includes Beast: only the files that implement a connection include it (the network
// connector, the tests' in-memory transport), never the client, the pool or their users.
#ifndef COURIER_SRC_HTTP_EXCHANGE_HPP
#define COURIER_SRC_HTTP_EXCHANGE_HPP

#include "http/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <type_traits>

namespace courier::http {

/// The bytes a connection reads ahead: Beast reads at most the buffer's free capacity (at
/// least 512 bytes) per read_some, and a ReceiveMessage answer of 10 small messages took 14
/// reads with an empty buffer.
inline constexpr std::size_t read_buffer_reserve = 16 * 1024;

/// Writes `req` and reads its response from `stream`, keeping bytes read ahead in `buffer`.
/// See connection::exchange for `timeout` and `out`. A stream whose lowest layer is a
/// beast::tcp_stream enforces `timeout` with it; other streams leave deadlines to the caller.
template <class Stream>
boost::asio::awaitable<void> exchange(Stream& stream, boost::beast::flat_buffer& buffer, const wire_request& req,
                                      const response_limits& limits, std::chrono::milliseconds timeout,
                                      exchange_result& out)
{
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace bhttp = boost::beast::http;
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    constexpr bool own_timer = std::is_same_v<beast::lowest_layer_type<Stream>, beast::tcp_stream>;

    out.writing = true;
    if constexpr (own_timer)
        if (timeout.count() > 0)
            beast::get_lowest_layer(stream).expires_after(timeout);
    const std::array<asio::const_buffer, 2> bytes{asio::buffer(req.head), asio::buffer(req.body)};
    std::size_t sent = 0;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
    {
        // A request almost always fits the socket's send buffer: write it now (the socket is
        // non-blocking, see the network connector) rather than through async_write, whose
        // completion is posted even when the write was done at once: a trip through the
        // event loop, and an epoll_wait, per request. What does not fit goes the
        // asynchronous way.
        boost::system::error_code ec;
        sent = stream.socket().write_some(bytes, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again)
            sent = 0;
        else if (ec)
        {
            out.ec = ec;
            describe_failure(out, false, limits, timeout);
            co_return;
        }
    }
    if (sent < req.head.size() + req.body.size())
    {
        beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(bytes);
        rest.consume(sent);
        auto [wec, written] = co_await asio::async_write(stream, rest, nothrow);
        if (wec)
        {
            out.ec = wec;
            describe_failure(out, false, limits, timeout);
            co_return;
        }
    }

    out.writing = false;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(limits.max_body);
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.max_header, UINT32_MAX)));
    if (req.head_only_response)
        parser.skip(true);
    auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    if (rec)
    {
        out.ec = rec;
        describe_failure(out, parser.got_some() || buffer.size() != 0, limits, timeout);
        co_return;
    }
    if constexpr (own_timer)
        beast::get_lowest_layer(stream).expires_never();
    auto message = parser.release();
    out.keep_alive = message.keep_alive();
    out.answer.status = message.result_int();
    for (const auto& field : message)
        out.answer.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.answer.body = std::move(message.body());
}

} // namespace courier::http

#endif
