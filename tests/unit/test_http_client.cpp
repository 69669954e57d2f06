// Tests of the HTTP client (src/http/client.hpp) against scripted servers that each test
// starts in-process on 127.0.0.1, port 0: keep-alive reuse, Connection: close, stale idle
// connections, timeouts, malformed and oversized responses, the pool bound and cancellation.
// Every test runs under run_test, whose limit only catches a hang (see loopback_http_server.hpp).
// Request timeouts of 2 s are real socket deadlines that must not fire: a loopback exchange
// takes a few ms on an idle machine, so they hold at a 20x slowdown.
#include "http/client.hpp"

#include "courier/error.hpp"

#include "loopback_http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <optional>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using courier::errc;
using courier::http::client;
using courier::http::client_options;
using courier::http::endpoint;
using courier::http::request;
using courier::http::response;

namespace {

using courier_test::contains;
using courier_test::expect_error;
using courier_test::nothrow;
using courier_test::sleep;
using clock_type = std::chrono::steady_clock;

using courier_test::run_test;

// What a server saw.
struct server_state
{
    int accepted = 0;
    int requests = 0;
    int open = 0;
    int max_open = 0;
    int closed_by_client = 0;
    std::vector<std::string> hosts;
};

// One accepted connection as a script sees it.
struct peer
{
    peer(tcp::socket s, server_state& st) : stream(std::move(s)), state(st) {}

    // The next request, or nothing once the client closed the connection.
    asio::awaitable<std::optional<bhttp::request<bhttp::string_body>>> read()
    {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(64u << 20); // Beast's default for requests is 1 MiB
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
        if (ec) {
            if (ec == bhttp::error::end_of_stream)
                ++state.closed_by_client;
            co_return std::nullopt;
        }
        ++state.requests;
        auto req = parser.release();
        state.hosts.emplace_back(req[bhttp::field::host]);
        co_return req;
    }

    asio::awaitable<void> reply(unsigned status, std::string body, bool keep_alive = true)
    {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
        res.set("X-Test", "yes");
        res.keep_alive(keep_alive);
        res.body() = std::move(body);
        res.prepare_payload();
        co_await bhttp::async_write(stream, res, nothrow);
    }

    asio::awaitable<void> write_raw(std::string bytes)
    {
        co_await asio::async_write(stream, asio::buffer(bytes), nothrow);
    }

    // Waits until the client closes the connection (or the server stops).
    asio::awaitable<void> wait_closed()
    {
        char scratch[512];
        for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), nothrow);
            if (ec) {
                if (ec == asio::error::eof || ec == asio::error::connection_reset)
                    ++state.closed_by_client;
                co_return;
            }
        }
    }

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    server_state& state;
};

using script = std::function<asio::awaitable<void>(peer&)>;

// Answers every request on a connection with 200 and the request's body, until the client
// closes it.
asio::awaitable<void> echo(peer& p)
{
    while (auto req = co_await p.read())
        co_await p.reply(200, req->body());
}

// Accepts connections on 127.0.0.1 and runs `script` on each. stop() (also run by the
// destructor) closes the acceptor and every connection, so no script outlives the test.
class test_server
{
public:
    test_server(asio::io_context& io, script s)
        : shared_(std::make_shared<shared>(io, std::move(s)))
    {
        asio::co_spawn(io, accept_loop(shared_), [](std::exception_ptr) {});
    }
    ~test_server() { stop(); }

    std::string url() const
    {
        return "http://127.0.0.1:" + std::to_string(shared_->acceptor.local_endpoint().port());
    }
    server_state& state() { return shared_->state; }

    void stop()
    {
        boost::system::error_code ignored;
        shared_->acceptor.close(ignored);
        for (auto& weak : shared_->peers)
            if (auto p = weak.lock())
                p->stream.socket().close(ignored);
    }

private:
    struct shared
    {
        shared(asio::io_context& io, script s)
            : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), run(std::move(s))
        {
        }
        tcp::acceptor acceptor;
        script run;
        server_state state;
        std::vector<std::weak_ptr<peer>> peers;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<shared> s)
    {
        for (;;) {
            auto [ec, socket] = co_await s->acceptor.async_accept(nothrow);
            if (ec)
                co_return;
            auto p = std::make_shared<peer>(std::move(socket), s->state);
            s->peers.push_back(p);
            asio::co_spawn(s->acceptor.get_executor(), serve(s, p), [](std::exception_ptr) {});
        }
    }

    static asio::awaitable<void> serve(std::shared_ptr<shared> s, std::shared_ptr<peer> p)
    {
        auto& st = s->state;
        ++st.accepted;
        st.max_open = std::max(st.max_open, ++st.open);
        co_await s->run(*p);
        boost::system::error_code ignored;
        p->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        p->stream.socket().close(ignored);
        --st.open;
    }

    std::shared_ptr<shared> shared_;
};

request post(std::string body)
{
    request r;
    r.target = "/queue";
    r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    r.body = std::move(body);
    return r;
}


} // namespace

TEST_CASE("endpoint: parses the URLs courier meets")
{
    auto local = endpoint::parse("http://127.0.0.1:4566");
    CHECK(local.scheme == "http");
    CHECK(local.host == "127.0.0.1");
    CHECK(local.port == 4566);
    CHECK(local.host_header == "127.0.0.1:4566");
    CHECK(local.path == "/");
    CHECK_FALSE(local.tls());

    auto sqs = endpoint::parse("https://sqs.us-east-1.amazonaws.com");
    CHECK(sqs.tls());
    CHECK(sqs.port == 443);
    CHECK(sqs.host_header == "sqs.us-east-1.amazonaws.com");

    auto imds = endpoint::parse("http://169.254.169.254/latest/api/token");
    CHECK(imds.port == 80);
    CHECK(imds.host_header == "169.254.169.254");
    CHECK(imds.path == "/latest/api/token");

    auto upper = endpoint::parse("HTTPS://SQS.Example.COM:443/123/q?Action=x");
    CHECK(upper.host == "sqs.example.com");
    CHECK(upper.host_header == "sqs.example.com");
    CHECK(upper.path == "/123/q?Action=x");

    auto v6 = endpoint::parse("http://[::1]:8080");
    CHECK(v6.host == "::1");
    CHECK(v6.host_header == "[::1]:8080");
    CHECK(endpoint::parse("http://localhost:80").host_header == "localhost");
    CHECK(endpoint::parse("https://localhost:80").host_header == "localhost:80");
}

TEST_CASE("endpoint: rejects what it cannot connect to, without echoing credentials")
{
    auto reason = [](std::string url) -> std::string {
        try {
            (void)endpoint::parse(url);
        } catch (const courier::error& e) {
            CHECK(e.code() == errc::bad_configuration);
            return e.detail();
        }
        FAIL("no error for " << url);
        return {};
    };
    CHECK(contains(reason("ftp://example.com"), "unsupported scheme 'ftp'"));
    CHECK(contains(reason("not a url"), "invalid endpoint URL 'not a url'"));
    CHECK(contains(reason("http://"), "no host"));
    CHECK(contains(reason("http:/relative"), "no host"));
    CHECK(contains(reason("http://host:99999"), "invalid port"));
    CHECK(contains(reason("http://host:0"), "invalid port"));
    CHECK(contains(reason("https://host/#frag"), "fragment"));
    const auto userinfo = reason("https://AKIDEXAMPLE:s3cr3t@sqs.example.com");
    CHECK(contains(userinfo, "user information"));
    CHECK_FALSE(contains(userinfo, "s3cr3t"));
}

TEST_CASE("response: header lookup is case-insensitive")
{
    response r;
    r.headers = {{"Content-Type", "text/plain"}, {"x-amzn-RequestId", "abc"}};
    CHECK(r.header("content-type") == "text/plain");
    CHECK(r.header("X-AMZN-REQUESTID") == "abc");
    CHECK(r.header("missing").empty());
}

TEST_CASE("client: keep-alive reuses one connection and sends Host")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, echo);
        client c(io.get_executor(), endpoint::parse(server.url()));
        for (int i = 0; i < 3; ++i) {
            response r = co_await c.send(post("body " + std::to_string(i)), 2s);
            CHECK(r.status == 200);
            CHECK(r.body == "body " + std::to_string(i));
            CHECK(r.header("x-test") == "yes");
        }
        CHECK(server.state().accepted == 1);
        CHECK(server.state().requests == 3);
        CHECK(server.state().hosts.at(0) == c.remote().host_header);
        CHECK(c.stats().open == 1);
        CHECK(c.stats().idle == 1);
    });
}

TEST_CASE("client: a request larger than the socket buffers arrives whole, on a server slow to read")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        // The first write takes what the socket buffers hold; the rest waits for the
        // server, which starts reading only after a pause.
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            co_await sleep(200ms);
            co_await echo(p);
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        std::string big(24u << 20, 'x');
        for (std::size_t i = 0; i < big.size(); i += 4096)
            big[i] = static_cast<char>('a' + (i / 4096) % 26);
        // The request timeout only catches a hang: 24 MiB through loopback takes a fraction of
        // a second, and this must hold on a machine 20 times slower (TSan while another build
        // runs), where 4 s did not.
        response r = co_await c.send(post(big), 60s);
        CHECK(r.status == 200);
        CHECK(r.body.size() == big.size());
        CHECK(r.body == big);
        // And the connection is fine for the next one.
        response again = co_await c.send(post("small"), 2s);
        CHECK(again.body == "small");
        CHECK(server.state().accepted == 1);
    });
}

TEST_CASE("client: a non-2xx status is a response, not an error")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            while (auto req = co_await p.read())
                co_await p.reply(400, R"({"__type":"InvalidParameterValue"})");
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        response r = co_await c.send(post("{}"));
        CHECK(r.status == 400);
        CHECK(contains(r.body, "InvalidParameterValue"));
    });
}

TEST_CASE("client: Connection: close discards the connection")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (auto req = co_await p.read())
                co_await p.reply(200, "bye", false);
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        CHECK((co_await c.send(post("a"), 2s)).body == "bye");
        CHECK(c.stats().open == 0);
        CHECK((co_await c.send(post("b"), 2s)).body == "bye");
        CHECK(server.state().accepted == 2);
    });
}

TEST_CASE("client: a stale idle connection is retried once on a new one")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        // Answers one request, then closes the connection after 30 ms idle, as servers and
        // load balancers do with keep-alive connections.
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (auto req = co_await p.read())
                co_await p.reply(200, "fresh");
            co_await sleep(30ms);
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        CHECK((co_await c.send(post("1"), 2s)).body == "fresh");
        co_await sleep(150ms);
        CHECK(c.stats().idle == 1);
        CHECK((co_await c.send(post("2"), 2s)).body == "fresh");
        CHECK(server.state().accepted == 2);
        CHECK(server.state().requests == 2);
    });
}

TEST_CASE("client: idle connections older than idle_timeout are closed, not reused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, echo);
        client_options options;
        // The pool's idle timeout is real time: 1 s leaves room for a machine 20 times slower
        // between the first two requests (a few ms on an idle one).
        options.idle_timeout = 1s;
        client c(io.get_executor(), endpoint::parse(server.url()), options);
        CHECK((co_await c.send(post("1"), 2s)).body == "1");
        CHECK((co_await c.send(post("2"), 2s)).body == "2"); // within 1 s: reused
        co_await sleep(1200ms);
        CHECK((co_await c.send(post("3"), 2s)).body == "3");
        CHECK(server.state().accepted == 2);
        co_await sleep(20ms);
        CHECK(server.state().closed_by_client == 1);
    });
}

TEST_CASE("client: header fields that could inject lines are refused before sending")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, echo);
        client c(io.get_executor(), endpoint::parse(server.url()));
        request r = post("x");
        r.headers.emplace_back("X-Evil", "a\r\nX-Injected: 1");
        CHECK_THROWS_AS(co_await c.send(r, 2s), std::invalid_argument);
        CHECK(server.state().accepted == 0);
    });
}

TEST_CASE("client: a fresh connection closed without an answer is not retried")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> { (void)co_await p.read(); });
        client c(io.get_executor(), endpoint::parse(server.url()));
        auto e = co_await expect_error(c, post("x"), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "read failed"));
        CHECK(contains(e.detail(), c.remote().host_header));
        CHECK(server.state().accepted == 1);
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("client: a slow server hits the read timeout")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (co_await p.read())
                co_await p.wait_closed();
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        const auto start = clock_type::now();
        auto e = co_await expect_error(c, post("secret-body"), 200ms);
        const auto took = clock_type::now() - start;
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "read timeout after 200 ms"));
        CHECK_FALSE(contains(e.what(), "secret-body"));
        CHECK(took >= 190ms);
        // The error text says which deadline fired; the bound only says it was not a later
        // one (nothing else here waits 10 s), with room for a machine 20 times slower.
        CHECK(took < 10s);
        CHECK(c.stats().open == 0);
        co_await sleep(50ms);
        CHECK(server.state().closed_by_client == 1);
    });
}

TEST_CASE("client: a response that is not HTTP is a clear error")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (co_await p.read())
                co_await p.write_raw("HELLO THERE\r\n\r\n");
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        auto e = co_await expect_error(c, post("x"), 2s);
        CHECK(e.code() == errc::bad_response);
        CHECK(contains(e.detail(), "malformed HTTP response"));
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("client: a body over max_response_body is refused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            while (co_await p.read())
                co_await p.reply(200, std::string(4096, 'x'));
        });
        client_options options;
        options.max_response_body = 1024;
        client c(io.get_executor(), endpoint::parse(server.url()), options);
        auto e = co_await expect_error(c, post("x"), 2s);
        CHECK(e.code() == errc::bad_response);
        CHECK(contains(e.detail(), "exceeds the limit of 1024 bytes"));
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("client: connection refused is a transport failure")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        std::uint16_t port = 0;
        {
            tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            port = a.local_endpoint().port();
        }
        client c(io.get_executor(), endpoint::parse("http://127.0.0.1:" + std::to_string(port)));
        auto e = co_await expect_error(c, post("x"), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "connect failed"));
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("client: concurrent senders never open more than max_connections")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            while (auto req = co_await p.read()) {
                co_await sleep(20ms);
                co_await p.reply(200, req->body());
            }
        });
        client_options options;
        options.max_connections = 2;
        client c(io.get_executor(), endpoint::parse(server.url()), options);

        constexpr int senders = 8;
        int finished = 0;
        std::size_t most_waiting = 0;
        asio::steady_timer all_done(io, clock_type::time_point::max());
        for (int i = 0; i < senders; ++i) {
            asio::co_spawn(
                io,
                [&, i]() -> asio::awaitable<void> {
                    response r = co_await c.send(post(std::to_string(i)), 2s);
                    CHECK(r.body == std::to_string(i));
                    CHECK(c.stats().open <= 2);
                    most_waiting = std::max(most_waiting, c.stats().waiting);
                },
                [&](std::exception_ptr e) {
                    CHECK_FALSE(e);
                    if (++finished == senders)
                        all_done.cancel();
                });
        }
        co_await all_done.async_wait(nothrow);
        CHECK(finished == senders);
        CHECK(server.state().accepted <= 2);
        CHECK(server.state().max_open <= 2);
        CHECK(server.state().requests == senders);
        CHECK(most_waiting > 0);
        CHECK(c.stats().waiting == 0);
    });
}

TEST_CASE("client: cancelling the awaiting coroutine aborts the request and closes it")
{
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::total}) {
        CAPTURE(static_cast<int>(type));
        run_test([type](asio::io_context& io) -> asio::awaitable<void> {
            test_server server(io, [](peer& p) -> asio::awaitable<void> {
                if (co_await p.read())
                    co_await p.wait_closed();
            });
            client c(io.get_executor(), endpoint::parse(server.url()));
            asio::cancellation_signal signal;
            std::optional<std::exception_ptr> outcome;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    // A caller that wants total cancellation lets it through its own filter.
                    co_await asio::this_coro::reset_cancellation_state(
                        asio::enable_total_cancellation());
                    co_await c.send(post("x"), 10s);
                },
                asio::bind_cancellation_slot(signal.slot(),
                                             [&](std::exception_ptr e) { outcome = e; }));
            while (server.state().requests == 0)
                co_await sleep(5ms);
            const auto start = clock_type::now();
            signal.emit(type);
            while (!outcome)
                co_await sleep(1ms);
            // Before the request's own 10 s timeout, with room for a 20 times slower machine.
            CHECK(clock_type::now() - start < 5s);
            REQUIRE(*outcome);
            try {
                std::rethrow_exception(*outcome);
            } catch (const boost::system::system_error& e) {
                CHECK(e.code() == asio::error::operation_aborted);
            }
            CHECK(c.stats().open == 0);
            co_await sleep(50ms);
            CHECK(server.state().closed_by_client == 1);
        });
    }
}

TEST_CASE("client: cancelling a sender that waits for a connection")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        bool release = false;
        test_server server(io, [&](peer& p) -> asio::awaitable<void> {
            while (auto req = co_await p.read()) {
                while (!release)
                    co_await sleep(5ms);
                co_await p.reply(200, req->body());
            }
        });
        client_options options;
        options.max_connections = 1;
        client c(io.get_executor(), endpoint::parse(server.url()), options);

        std::optional<std::exception_ptr> first, second;
        asio::co_spawn(io, c.send(post("first"), 2s),
                       [&](std::exception_ptr e, response) { first = e; });
        asio::cancellation_signal signal;
        asio::co_spawn(io, c.send(post("second"), 2s),
                       asio::bind_cancellation_slot(
                           signal.slot(), [&](std::exception_ptr e, response) { second = e; }));
        while (c.stats().waiting == 0)
            co_await sleep(1ms);
        signal.emit(asio::cancellation_type::terminal);
        while (!second)
            co_await sleep(1ms);
        CHECK(*second);
        CHECK(c.stats().waiting == 0);
        release = true;
        while (!first)
            co_await sleep(1ms);
        CHECK_FALSE(*first);
        // The slot is free again: a new request goes through on the kept-alive connection.
        CHECK((co_await c.send(post("third"), 2s)).body == "third");
        CHECK(server.state().accepted == 1);
    });
}

TEST_CASE("client: invalid options are configuration errors")
{
    asio::io_context io;
    client_options options;
    options.max_connections = 0;
    CHECK_THROWS_AS(client(io.get_executor(), endpoint::parse("http://127.0.0.1:1"), options),
                    courier::error);
    client_options tls;
    tls.ca_file = "/nonexistent/ca.pem";
    try {
        client c(io.get_executor(), endpoint::parse("https://127.0.0.1:1"), tls);
        FAIL("no error for a missing CA file");
    } catch (const courier::error& e) {
        CHECK(e.code() == errc::bad_configuration);
        CHECK(contains(e.detail(), "/nonexistent/ca.pem"));
    }
}
