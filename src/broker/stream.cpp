// Plain TCP streams for broker connections, and the reconnection backoff (see stream.hpp).
#include "broker/stream.hpp"

#include "courier/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <random>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::broker {
namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class tcp_stream final : public byte_stream
{
public:
    tcp_stream(asio::ip::tcp::socket socket, std::string peer)
        : socket_(std::move(socket)),
          peer_(std::move(peer))
    {
    }

    asio::awaitable<std::size_t> read_some(char* buffer, std::size_t size) override
    {
        auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer, size), nothrow);
        if (ec == asio::error::operation_aborted)
            throw boost::system::system_error(ec);
        if (ec)
            throw error(errc::transport_failed, "read from " + peer_ + " failed: " + ec.message());
        co_return n;
    }

    asio::awaitable<void> write(std::string_view bytes) override
    {
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), nothrow);
        if (ec == asio::error::operation_aborted)
            throw boost::system::system_error(ec);
        if (ec)
            throw error(errc::transport_failed, "write to " + peer_ + " failed: " + ec.message());
    }

    void close() noexcept override
    {
        boost::system::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

private:
    asio::ip::tcp::socket socket_;
    std::string peer_;
};

} // namespace

asio::awaitable<std::unique_ptr<byte_stream>> connect_tcp(asio::any_io_executor executor, std::string host,
                                                          std::uint16_t port, std::chrono::milliseconds timeout)
{
    const std::string peer = host + ":" + std::to_string(port);
    asio::ip::tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), nothrow);
    if (rec)
        throw error(errc::transport_failed, "cannot resolve " + peer + ": " + rec.message());
    asio::ip::tcp::socket socket(executor);
    // Network timeouts guard real sockets: they stay on real time (see courier/clock.hpp).
    asio::steady_timer timer(executor, timeout);
    auto outcome = co_await (asio::async_connect(socket, results, nothrow) || timer.async_wait(nothrow));
    if (outcome.index() == 1)
        throw error(errc::transport_failed,
                    "connect to " + peer + " timed out after " + std::to_string(timeout.count()) + " ms");
    auto [cec, endpoint] = std::get<0>(outcome);
    if (cec)
        throw error(errc::transport_failed, "connect to " + peer + " failed: " + cec.message());
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return std::make_unique<tcp_stream>(std::move(socket), peer);
}

asio::awaitable<void> throw_if_cancelled()
{
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
        throw boost::system::system_error(asio::error::operation_aborted);
}

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base, std::chrono::milliseconds max)
{
    thread_local std::minstd_rand random(std::random_device{}());
    auto d = base;
    for (unsigned i = 0; i < attempt && d < max; ++i)
        d *= 2;
    d = std::min(d, max);
    const auto low = d.count() / 2;
    std::uniform_int_distribution<long long> pick(low, std::max<long long>(low, d.count()));
    return std::chrono::milliseconds(pick(random));
}

} // namespace courier::broker
