// net::connect (src/net/connect.hpp), the connect unit the HTTP client and the broker
// transports share: bytes through the type-erased stream in plain TCP and in TLS, SNI, and
// each failure as a transport_failed error that names the server and the step. Against
// servers the tests start on 127.0.0.1 (tls_test_server.hpp).
#include "net/connect.hpp"
#include "tls_test_server.hpp"

#include <courier/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier::errc;
using courier_test::contains;
using courier_test::nothrow;
using courier_test::pki;
using courier_test::tls_server;
using tcp = asio::ip::tcp;

namespace {

// Real sockets and TLS handshakes taking milliseconds (the first TLS test also makes the PKI
// with the openssl command). The limit only catches a hang; it is far above what a machine
// 20 times slower than usual needs.
template <class Body> void run_test(Body body)
{
    courier_test::run_test(std::move(body), 60s);
}

std::shared_ptr<const courier::net::tls_context> trusting_test_ca()
{
    return std::make_shared<const courier::net::tls_context>(
        courier::net::tls_context::options{.ca_file = pki().file("ca.pem")}, "test");
}

// The courier::error that connecting with `options` throws; fails the test if none.
asio::awaitable<courier::error> connect_error(courier::net::connect_options options)
{
    try
    {
        co_await courier::net::connect(co_await asio::this_coro::executor, std::move(options));
    }
    catch (const courier::error& e)
    {
        co_return e;
    }
    FAIL("connect did not throw courier::error");
    throw std::logic_error("unreachable");
}

// An HTTP request through `s`, written and read with Asio's composed operations over the
// stream's type-erased ones.
asio::awaitable<std::string> get(courier::net::stream& s)
{
    const std::string request = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";
    co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
    std::string answer;
    co_await asio::async_read_until(s, asio::dynamic_buffer(answer), "secure", asio::use_awaitable);
    co_return answer;
}

} // namespace

TEST_CASE("net::connect: plain TCP, bytes both ways through the stream")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        courier_test::http_server server(io, [](const courier_test::seen_request& r, std::size_t) {
            return courier_test::reply{200, "echo " + r.target + " secure"};
        });
        const auto port = static_cast<std::uint16_t>(std::stoi(server.url().substr(server.url().rfind(':') + 1)));
        courier::net::connect_options options{.host = "127.0.0.1", .port = port};
        courier::net::stream s = co_await courier::net::connect(io.get_executor(), std::move(options));
        CHECK_FALSE(s.tls());
        const std::string answer = co_await get(s);
        CHECK(contains(answer, "HTTP/1.1 200"));
        CHECK(contains(answer, "echo / secure"));
        s.close();
        CHECK(server.requests().size() == 1);
    });
}

TEST_CASE("net::connect: TLS with SNI and the host name verified")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "local");
        courier::net::connect_options options{.host = "localhost", .port = server.port(), .tls = trusting_test_ca()};
        courier::net::stream s = co_await courier::net::connect(io.get_executor(), std::move(options));
        CHECK(s.tls());
        CHECK(contains(co_await get(s), "HTTP/1.1 200"));
        CHECK(server.state().server_name == "localhost");
        CHECK(server.state().requests == 1);
    });
}

TEST_CASE("net::connect: failures name the server and the step")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        std::uint16_t closed_port = 0;
        {
            tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            closed_port = a.local_endpoint().port();
        }
        // Options in named variables, never braced temporaries in a co_await: GCC 12
        // miscompiles those for aggregates holding strings (chriskohlhoff/asio#1073).
        courier::net::connect_options closed{.host = "127.0.0.1", .port = closed_port};
        auto refused = co_await connect_error(closed);
        CHECK(refused.code() == errc::transport_failed);
        CHECK(contains(refused.detail(), "127.0.0.1:" + std::to_string(closed_port) + ": connect failed"));

        courier::net::connect_options closed_named{.host = "127.0.0.1", .port = closed_port, .name = "broker-1"};
        auto named = co_await connect_error(closed_named);
        CHECK(contains(named.detail(), "broker-1: connect failed"));

        tls_server other(io, "other");
        courier::net::connect_options wrong_host{.host = "localhost", .port = other.port(), .tls = trusting_test_ca()};
        auto mismatch = co_await connect_error(wrong_host);
        CHECK(mismatch.code() == errc::transport_failed);
        CHECK(contains(mismatch.detail(), "TLS handshake: certificate verify failed (hostname mismatch)"));

        tls_server self_signed(io, "self");
        auto system_store =
            std::make_shared<const courier::net::tls_context>(courier::net::tls_context::options{}, "test");
        courier::net::connect_options unknown_ca{.host = "127.0.0.1", .port = self_signed.port(), .tls = system_store};
        auto untrusted = co_await connect_error(unknown_ca);
        CHECK(contains(untrusted.detail(), "certificate verify failed"));
        CHECK(contains(untrusted.detail(), "self-signed"));
    });
}

TEST_CASE("net::connect: a server that never answers the handshake hits the deadline")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tcp::acceptor silent(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        tcp::socket held(io); // accepted, never read from
        silent.async_accept(held, [](boost::system::error_code) {});
        const auto start = std::chrono::steady_clock::now();
        courier::net::connect_options options{
            .host = "127.0.0.1", .port = silent.local_endpoint().port(), .timeout = 100ms, .tls = trusting_test_ca()};
        auto e = co_await connect_error(options);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "TLS handshake timeout after 100 ms"));
        CHECK(std::chrono::steady_clock::now() - start >= 100ms); // no upper bound: it is real time
    });
}

TEST_CASE("net::connect: cancellation ends it with operation_aborted")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tcp::acceptor silent(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        tcp::socket held(io);
        silent.async_accept(held, [](boost::system::error_code) {});
        asio::cancellation_signal signal;
        std::optional<std::exception_ptr> outcome;
        courier::net::connect_options options{
            .host = "127.0.0.1", .port = silent.local_endpoint().port(), .timeout = 60s, .tls = trusting_test_ca()};
        asio::co_spawn(io, courier::net::connect(io.get_executor(), std::move(options)),
                       asio::bind_cancellation_slot(signal.slot(),
                                                    [&](std::exception_ptr e, courier::net::stream) { outcome = e; }));
        while (!held.is_open())
            co_await courier_test::sleep(1ms);
        signal.emit(asio::cancellation_type::terminal);
        while (!outcome)
            co_await courier_test::sleep(1ms);
        REQUIRE(*outcome);
        try
        {
            std::rethrow_exception(*outcome);
        }
        catch (const boost::system::system_error& e)
        {
            CHECK(e.code() == asio::error::operation_aborted);
        }
    });
}
