// TLS tests of the HTTP client (src/http/client.hpp): certificate chain and host-name
// verification and SNI, against an in-process TLS server on 127.0.0.1 (tls_test_server.hpp).
#include "courier/error.hpp"
#include "http/client.hpp"
#include "tls_test_server.hpp"

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier::errc;
using courier::http::client;
using courier::http::client_options;
using courier::http::endpoint;
using courier::http::request;

namespace {

using courier_test::contains;
using courier_test::expect_error;
using courier_test::pki;
using courier_test::tls_server;

// The shared runner, whose limit only catches a hang (see loopback_http_server.hpp). The
// 2 s request timeouts and the server's 3 s handshake deadline are real socket deadlines
// that must not fire: a loopback TLS handshake and exchange take about 20 ms on an idle
// machine, so they hold at a 20x slowdown.
using courier_test::run_test;

std::string url(const std::string& host, std::uint16_t port)
{
    return "https://" + host + ":" + std::to_string(port);
}

} // namespace

TEST_CASE("tls: a certificate from the configured CA is accepted and reused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "local");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())), options);
        for (int i = 0; i < 2; ++i)
            CHECK((co_await c.send(request{}, 2s)).body == "secure");
        CHECK(server.state().accepted == 1);
        CHECK(server.state().requests == 2);
        CHECK(server.state().server_name.empty()); // no SNI for an address
    });
}

TEST_CASE("tls: host-name verification and SNI use the endpoint's name")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "local");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client c(io.get_executor(), endpoint::parse(url("localhost", server.port())), options);
        CHECK((co_await c.send(request{}, 2s)).body == "secure");
        CHECK(server.state().server_name == "localhost");
    });
}

TEST_CASE("tls: a self-signed certificate is refused by the system store")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "self");
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())));
        auto e = co_await expect_error(c, request(), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "TLS handshake: certificate verify failed"));
        CHECK(contains(e.detail(), "self-signed"));
        CHECK(server.state().requests == 0);
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("tls: verify_peer = false accepts any certificate")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "self");
        client_options options;
        options.verify_peer = false;
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())), options);
        CHECK((co_await c.send(request{}, 2s)).body == "secure");
    });
}

TEST_CASE("tls: a certificate for another host is refused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "other");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client by_address(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())), options);
        auto e = co_await expect_error(by_address, request(), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "certificate verify failed (IP address mismatch)"));

        client by_name(io.get_executor(), endpoint::parse(url("localhost", server.port())), options);
        auto n = co_await expect_error(by_name, request(), 2s);
        CHECK(contains(n.detail(), "certificate verify failed (hostname mismatch)"));
        CHECK(server.state().requests == 0);
    });
}
