// An in-memory transport for courier's HTTP client (an http::connector), in the manner of
// Beast's test::stream and Boost.MySQL's test_stream: the client's requests are parsed and
// recorded, a scripted server answers each one (possibly after a sleep on a simulated clock),
// its bytes reach the client in the pieces the script gives, and any I/O step can be made to
// fail with a chosen error, or to never complete so that the client's deadline ends it.
//
// The steps, numbered from 1 over every connection of the transport in the order they happen:
// connect, write (each write_some), read_header / read_body (each read that delivers, or
// fails to deliver, bytes of an answer's first piece / of its later pieces), close (the client
// closing a connection). No real time and no socket is involved: with a simulated clock the
// whole exchange runs in simulated time.
//
// Beast's own test::stream (1.81) does not fit: its reads ignore per-operation cancellation,
// so a deadline raced against one would wait forever, and it cannot tell a header read from a
// body read.
#ifndef COURIER_TESTS_MEMORY_TRANSPORT_HPP
#define COURIER_TESTS_MEMORY_TRANSPORT_HPP

#include "http/connection.hpp"
#include "scripted_http.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier_test {

enum class io_step
{
    connect,
    write,
    read_header,
    read_body,
    close,
};
std::string_view to_string(io_step step);

/// What the scripted server sends back for one request.
struct answer
{
    /// Bytes, each piece delivered by reads of its own (a read never spans two pieces).
    std::vector<std::string> pieces;
    /// After the pieces, the server closes the connection: the client's next read gets EOF.
    bool close = false;
    /// After the pieces, nothing: the client's next read waits until its deadline.
    bool hang = false;

    /// An HTTP/1.1 response with a Content-Length, in two pieces (head, body) unless the
    /// body is empty. `keep_alive` false adds `Connection: close` and closes after it.
    static answer http(unsigned status, std::string body, bool keep_alive = true,
                       std::vector<std::pair<std::string, std::string>> extra_headers = {});
    /// Raw bytes, then the connection is closed.
    static answer raw(std::vector<std::string> pieces);
    /// Nothing at all, ever.
    static answer none();
    /// The connection closed without a byte.
    static answer eof();
};

/// One I/O step the client took.
struct step_record
{
    std::size_t number = 0; ///< 1-based, over the whole transport
    io_step kind = io_step::connect;
    std::size_t connection = 0; ///< 1-based, in the order they were opened
    std::string
        action; ///< the request in progress on it (X-Amz-Target's action, else "METHOD target"); empty before the first
    bool failed = false; ///< the step was the one made to fail (or stall)
};

class memory_transport final : public courier::http::connector
{
public:
    /// Answers every request; `index` counts requests from 0 over all connections.
    using server = std::function<boost::asio::awaitable<answer>(const seen_request& request, std::size_t index)>;
    using simple_server = std::function<answer(const seen_request& request, std::size_t index)>;

    explicit memory_transport(server s);
    explicit memory_transport(simple_server s);
    ~memory_transport() override;

    boost::asio::awaitable<std::unique_ptr<courier::http::connection>> connect(
        boost::asio::any_io_executor executor, const courier::http::endpoint& remote,
        std::chrono::milliseconds timeout) override;

    /// Makes step `n` fail with `ec`; with a default-constructed `ec` the step never completes
    /// instead (a connect or an I/O that the client's deadline or a cancellation must end).
    /// A failed connect throws courier::error (transport_failed) as the network connector does.
    void fail_step(std::size_t n, boost::system::error_code ec);
    /// True once the step chosen by fail_step was reached.
    bool failure_happened() const;

    /// Most bytes one write_some takes (0: all): the client must finish partial writes.
    void max_write(std::size_t bytes);

    const std::vector<seen_request>& requests() const;
    const std::vector<step_record>& steps() const;
    std::size_t connections_opened() const;
    /// Connections the client closed, or dropped without closing.
    std::size_t connections_closed() const;

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace courier_test

#endif
