// Tests of the HTTP client's logic (src/http/client.hpp) over the in-memory transport
// (memory_transport.hpp) on simulated time: keep-alive reuse, Connection: close, stale idle
// connections, the idle timeout, connect and request deadlines, partial writes and answers in
// pieces, malformed and oversized responses, a failure at each step of an exchange, the pool
// bound and cancellation. No socket and no real time: a deadline of 200 ms passes in exactly
// 200 ms of the simulated clock. test_http_sockets.cpp proves the same client over sockets.
#include "http/client.hpp"
#include "memory_transport.hpp"
#include "test_support.hpp"

#include <courier/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier::errc;
using courier::http::client;
using courier::http::client_options;
using courier::http::endpoint;
using courier::http::request;
using courier::http::response;
using courier_test::answer;
using courier_test::contains;
using courier_test::io_step;
using courier_test::memory_transport;
using courier_test::seen_request;

namespace {

// A client of "http://sqs.test:4566" over an in-memory transport answering with `server`,
// everything on one simulated clock.
struct fixture
{
    fixture() = default;
    template <class Server> explicit fixture(Server server) { serve(std::move(server)); }

    template <class Server> void serve(Server server)
    {
        transport = std::make_shared<memory_transport>(std::move(server));
    }

    client make_client(client_options options = {})
    {
        options.transport = transport;
        options.clock = clock;
        return client(io.get_executor(), endpoint::parse("http://sqs.test:4566"), std::move(options));
    }

    // Runs `fn()` (an awaitable) to its end in simulated time.
    template <class Fn> auto run(Fn fn) { return courier_test::run_simulated(io, *clock, std::move(fn)); }

    asio::io_context io;
    std::shared_ptr<courier::testing::simulated_clock> clock = std::make_shared<courier::testing::simulated_clock>();
    std::shared_ptr<memory_transport> transport;
};

answer echo(const seen_request& r, std::size_t)
{
    return answer::http(200, r.body, true, {{"X-Test", "yes"}});
}

request post(std::string body)
{
    request r;
    r.target = "/queue";
    r.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    r.body = std::move(body);
    return r;
}

// What the courier::error that sending `req` threw said (co_spawn wants a result it can
// default-construct, which courier::error is not); fails the test if nothing was thrown.
struct failure
{
    std::error_code code;
    std::string detail;
    std::string what;
};

asio::awaitable<failure> send_error(client& c, request req, std::chrono::milliseconds timeout = 2s)
{
    try
    {
        co_await c.send(std::move(req), timeout);
    }
    catch (const courier::error& e)
    {
        co_return failure{e.code(), e.detail(), e.what()};
    }
    FAIL("send did not throw courier::error");
    co_return failure{};
}

std::size_t count_steps(const memory_transport& t, io_step kind)
{
    const auto& s = t.steps();
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [&](const auto& r) { return r.kind == kind; }));
}

} // namespace

TEST_CASE("client: keep-alive reuses one connection and sends Host")
{
    fixture f(echo);
    client c = f.make_client();
    f.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i)
        {
            response r = co_await c.send(post("body " + std::to_string(i)), 2s);
            CHECK(r.status == 200);
            CHECK(r.body == "body " + std::to_string(i));
            CHECK(r.header("x-test") == "yes");
        }
    });
    CHECK(f.transport->connections_opened() == 1);
    REQUIRE(f.transport->requests().size() == 3);
    CHECK(f.transport->requests()[0].header("host") == "sqs.test:4566");
    CHECK(f.transport->requests()[0].header("content-length") == "6");
    CHECK(c.stats().open == 1);
    CHECK(c.stats().idle == 1);
}

TEST_CASE("client: a non-2xx status is a response, not an error")
{
    fixture f(
        [](const seen_request&, std::size_t) { return answer::http(400, R"({"__type":"InvalidParameterValue"})"); });
    client c = f.make_client();
    const response r = f.run([&] { return c.send(post("{}")); });
    CHECK(r.status == 400);
    CHECK(contains(r.body, "InvalidParameterValue"));
}

TEST_CASE("client: Connection: close discards the connection")
{
    fixture f([](const seen_request&, std::size_t) { return answer::http(200, "bye", false); });
    client c = f.make_client();
    f.run([&]() -> asio::awaitable<void> {
        CHECK((co_await c.send(post("a"), 2s)).body == "bye");
        CHECK(c.stats().open == 0);
        CHECK((co_await c.send(post("b"), 2s)).body == "bye");
    });
    CHECK(f.transport->connections_opened() == 2);
    CHECK(count_steps(*f.transport, io_step::close) == 2);
}

TEST_CASE("client: a stale idle connection is retried once on a new one")
{
    // The first connection's server closes it after its answer, without saying so, as servers
    // and load balancers do with idle keep-alive connections.
    fixture f([](const seen_request&, std::size_t index) {
        answer a = answer::http(200, "fresh");
        a.close = index == 0;
        return a;
    });
    client c = f.make_client();
    f.run([&]() -> asio::awaitable<void> {
        CHECK((co_await c.send(post("1"), 2s)).body == "fresh");
        CHECK(c.stats().idle == 1);
        CHECK((co_await c.send(post("2"), 2s)).body == "fresh");
    });
    CHECK(f.transport->connections_opened() == 2);
    CHECK(f.transport->requests().size() == 2); // the write to the closed one reached nobody
}

TEST_CASE("client: a fresh connection closed without an answer is not retried")
{
    fixture f([](const seen_request&, std::size_t) { return answer::eof(); });
    client c = f.make_client();
    const failure e = f.run([&] { return send_error(c, post("x")); });
    CHECK(e.code == errc::transport_failed);
    CHECK(contains(e.detail, "sqs.test:4566: read failed"));
    CHECK(f.transport->connections_opened() == 1);
    CHECK(c.stats().open == 0);
}

TEST_CASE("client: idle connections older than idle_timeout are closed, not reused")
{
    fixture f(echo);
    client c = f.make_client({.idle_timeout = 50ms});
    f.run([&]() -> asio::awaitable<void> {
        CHECK((co_await c.send(post("1"), 2s)).body == "1");
        co_await f.clock->sleep_for(49ms);
        CHECK((co_await c.send(post("2"), 2s)).body == "2"); // within 50 ms: reused
        co_await f.clock->sleep_for(50ms);
        CHECK((co_await c.send(post("3"), 2s)).body == "3");
    });
    CHECK(f.transport->connections_opened() == 2);
    CHECK(f.transport->connections_closed() == 1);
}

TEST_CASE("client: header fields that could inject lines are refused before sending")
{
    fixture f(echo);
    client c = f.make_client();
    request r = post("x");
    r.headers.emplace_back("X-Evil", "a\r\nX-Injected: 1");
    CHECK_THROWS_AS(f.run([&] { return c.send(r, 2s); }), std::invalid_argument);
    CHECK(f.transport->connections_opened() == 0);
}

TEST_CASE("client: deadlines of the connect and of each direction run on the client's clock")
{
    SUBCASE("a server that never answers hits the read timeout")
    {
        fixture f([](const seen_request&, std::size_t) { return answer::none(); });
        client c = f.make_client();
        const auto start = f.clock->now();
        const failure e = f.run([&] { return send_error(c, post("secret-body"), 200ms); });
        CHECK(f.clock->now() - start == 200ms);
        CHECK(e.code == errc::transport_failed);
        CHECK(contains(e.detail, "read timeout after 200 ms"));
        CHECK_FALSE(contains(e.what, "secret-body"));
        CHECK(c.stats().open == 0);
        CHECK(f.transport->connections_closed() == 1);
    }
    SUBCASE("a body that stops half-way hits the same deadline")
    {
        fixture f([](const seen_request&, std::size_t) {
            answer a = answer::raw({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "12345"});
            a.close = false;
            a.hang = true;
            return a;
        });
        client c = f.make_client();
        const failure e = f.run([&] { return send_error(c, post("x"), 300ms); });
        CHECK(contains(e.detail, "read timeout after 300 ms"));
    }
    SUBCASE("a write that never completes hits the write timeout")
    {
        fixture f(echo);
        f.transport->fail_step(2, {}); // connect, then the write
        client c = f.make_client();
        const failure e = f.run([&] { return send_error(c, post("x"), 200ms); });
        CHECK(contains(e.detail, "write timeout after 200 ms"));
    }
    SUBCASE("a connect that never completes hits the connect timeout")
    {
        fixture f(echo);
        f.transport->fail_step(1, {});
        client c = f.make_client({.connect_timeout = 1500ms});
        const auto start = f.clock->now();
        const failure e = f.run([&] { return send_error(c, post("x"), 200ms); });
        CHECK(f.clock->now() - start == 1500ms);
        CHECK(contains(e.detail, "sqs.test:4566: connect timeout after 1500 ms"));
        CHECK(c.stats().open == 0);
    }
}

TEST_CASE("client: a failure at each step of an exchange")
{
    struct step_case
    {
        std::size_t step;
        io_step kind;
        const char* expected; // empty: the request succeeds
    };
    // connect, write, read of the header, read of the body, then close on Connection: close.
    for (const step_case& s :
         {step_case{1, io_step::connect, "connect failed: Connection reset by peer"},
          step_case{2, io_step::write, "write failed: Connection reset by peer"},
          step_case{3, io_step::read_header, "read failed: Connection reset by peer"},
          step_case{4, io_step::read_body, "read failed: Connection reset by peer"}, step_case{5, io_step::close, ""}})
    {
        CAPTURE(to_string(s.kind));
        fixture f([](const seen_request&, std::size_t) { return answer::http(200, "done", false); });
        f.transport->fail_step(s.step, asio::error::connection_reset);
        client c = f.make_client();
        if (*s.expected == '\0')
        {
            CHECK(f.run([&] { return c.send(post("x"), 2s); }).body == "done");
        }
        else
        {
            const failure e = f.run([&] { return send_error(c, post("x")); });
            CHECK(e.code == errc::transport_failed);
            CHECK_MESSAGE(contains(e.detail, s.expected), e.detail);
        }
        REQUIRE(f.transport->failure_happened());
        CHECK(f.transport->steps().at(s.step - 1).kind == s.kind);
        CHECK(c.stats().open == 0);
    }
}

TEST_CASE("client: a reused connection reset before the answer is retried; after some of it, not")
{
    for (const io_step kind : {io_step::read_header, io_step::read_body})
    {
        CAPTURE(to_string(kind));
        fixture f(echo);
        // Steps of the first exchange: connect, write, read of the header, read of the body;
        // of the second (reused): write, then the failing read.
        f.transport->fail_step(kind == io_step::read_header ? 6 : 7, asio::error::connection_reset);
        client c = f.make_client();
        f.run([&]() -> asio::awaitable<void> {
            CHECK((co_await c.send(post("1"), 2s)).body == "1");
            if (kind == io_step::read_header)
                CHECK((co_await c.send(post("2"), 2s)).body == "2");
            else
                CHECK(contains((co_await send_error(c, post("2"))).detail, "read failed"));
        });
        CHECK(f.transport->connections_opened() == (kind == io_step::read_header ? 2u : 1u));
    }
}

TEST_CASE("client: partial writes and an answer in many pieces arrive whole")
{
    std::string big(300'000, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096)
        big[i] = static_cast<char>('a' + (i / 4096) % 26);
    fixture f([](const seen_request& r, std::size_t) {
        answer a{.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n\r\n"}};
        for (std::size_t at = 0; at < r.body.size(); at += 7001)
            a.pieces.push_back(r.body.substr(at, 7001));
        return a;
    });
    f.transport->max_write(1000);
    client c = f.make_client();
    const response r = f.run([&] { return c.send(post(big), 2s); });
    CHECK(r.body == big);
    REQUIRE(f.transport->requests().size() == 1);
    CHECK(f.transport->requests()[0].body == big);
    CHECK(count_steps(*f.transport, io_step::write) > 300);
    CHECK(count_steps(*f.transport, io_step::read_body) >= big.size() / 7001);
}

TEST_CASE("client: malformed and oversized responses are bad_response")
{
    struct bad_case
    {
        answer reply;
        client_options options;
        const char* expected;
    };
    const bad_case cases[] = {
        {answer::raw({"HELLO THERE\r\n\r\n"}), {}, "malformed HTTP response"},
        {answer::http(200, std::string(4096, 'x')), {.max_response_body = 1024}, "exceeds the limit of 1024 bytes"},
        {answer::http(200, "x", true, {{"X-Big", std::string(2048, 'h')}}),
         {.max_response_header = 1024},
         "response header exceeds the limit of 1024 bytes"},
    };
    for (const bad_case& b : cases)
    {
        CAPTURE(b.expected);
        fixture f([&](const seen_request&, std::size_t) { return b.reply; });
        client c = f.make_client(b.options);
        const failure e = f.run([&] { return send_error(c, post("x")); });
        CHECK(e.code == errc::bad_response);
        CHECK(contains(e.detail, b.expected));
        CHECK(c.stats().open == 0);
    }
}

TEST_CASE("client: concurrent senders never open more than max_connections")
{
    fixture f;
    f.serve(memory_transport::server([&f](const seen_request& r, std::size_t) -> asio::awaitable<answer> {
        co_await f.clock->sleep_for(20ms); // the server takes 20 ms (simulated) per answer
        co_return answer::http(200, r.body);
    }));
    client c = f.make_client({.max_connections = 2});
    constexpr int senders = 8;
    int finished = 0;
    std::size_t most_waiting = 0;
    for (int i = 0; i < senders; ++i)
        asio::co_spawn(
            f.io,
            [&, i]() -> asio::awaitable<void> {
                const response r = co_await c.send(post(std::to_string(i)), 2s);
                CHECK(r.body == std::to_string(i));
                CHECK(c.stats().open <= 2);
                most_waiting = std::max(most_waiting, c.stats().waiting);
            },
            [&](std::exception_ptr e) {
                CHECK_FALSE(e);
                ++finished;
            });
    const auto start = f.clock->now();
    f.clock->run(f.io);
    CHECK(finished == senders);
    CHECK(f.clock->now() - start == 80ms); // four rounds of two
    CHECK(f.transport->connections_opened() == 2);
    CHECK(f.transport->requests().size() == senders);
    CHECK(most_waiting > 0);
    CHECK(c.stats().waiting == 0);
}

TEST_CASE("client: cancelling the awaiting coroutine aborts the request and closes it")
{
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::total})
    {
        CAPTURE(static_cast<int>(type));
        fixture f([](const seen_request&, std::size_t) { return answer::none(); });
        client c = f.make_client();
        asio::cancellation_signal signal;
        std::optional<std::exception_ptr> outcome;
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                // A caller that wants total cancellation lets it through its own filter.
                co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
                co_await c.send(post("x"), 10s);
            },
            asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { outcome = e; }));
        f.clock->run(f.io, 1s); // the request is written and waits for its answer
        REQUIRE(f.transport->requests().size() == 1);
        REQUIRE_FALSE(outcome);
        signal.emit(type);
        f.clock->run(f.io);
        REQUIRE(outcome);
        REQUIRE(*outcome);
        try
        {
            std::rethrow_exception(*outcome);
        }
        catch (const boost::system::system_error& e)
        {
            CHECK(e.code() == asio::error::operation_aborted);
        }
        CHECK(c.stats().open == 0);
        CHECK(f.transport->connections_closed() == 1);
    }
}

TEST_CASE("client: cancelling a sender that waits for a connection")
{
    bool release = false;
    fixture f;
    f.serve(memory_transport::server([&](const seen_request& r, std::size_t) -> asio::awaitable<answer> {
        while (!release)
            co_await f.clock->sleep_for(5ms);
        co_return answer::http(200, r.body);
    }));
    client c = f.make_client({.max_connections = 1});
    std::optional<std::exception_ptr> first, second;
    asio::co_spawn(f.io, c.send(post("first"), 2s), [&](std::exception_ptr e, response) { first = e; });
    asio::cancellation_signal signal;
    asio::co_spawn(f.io, c.send(post("second"), 2s),
                   asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, response) { second = e; }));
    f.clock->run(f.io, 100ms);
    REQUIRE(c.stats().waiting == 1);
    signal.emit(asio::cancellation_type::terminal);
    f.clock->run(f.io, 10ms);
    REQUIRE(second);
    CHECK(*second);
    CHECK(c.stats().waiting == 0);
    release = true;
    f.clock->run(f.io);
    REQUIRE(first);
    CHECK_FALSE(*first);
    // The slot is free again: a new request goes through on the kept-alive connection.
    CHECK(f.run([&] { return c.send(post("third"), 2s); }).body == "third");
    CHECK(f.transport->connections_opened() == 1);
}

TEST_CASE("client: invalid options are configuration errors")
{
    asio::io_context io;
    client_options options;
    options.max_connections = 0;
    CHECK_THROWS_AS(client(io.get_executor(), endpoint::parse("http://127.0.0.1:1"), options), courier::error);
    client_options tls;
    tls.ca_file = "/nonexistent/ca.pem";
    try
    {
        client c(io.get_executor(), endpoint::parse("https://127.0.0.1:1"), tls);
        FAIL("no error for a missing CA file");
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == errc::bad_configuration);
        CHECK(contains(e.detail(), "/nonexistent/ca.pem"));
    }
}

TEST_CASE("endpoint URLs: what is wrong with one is said, with the URL")
{
    const auto error_of = [](std::string_view url) {
        try
        {
            (void)endpoint::parse(url);
        }
        catch (const courier::error& e)
        {
            CHECK(e.code() == errc::bad_configuration);
            return std::string(e.what());
        }
        FAIL("no error for " << url);
        return std::string();
    };
    // A host and port without a scheme, as people paste them from a docker-compose file.
    CHECK(error_of("localhost:9324") ==
          "invalid endpoint URL 'localhost:9324': no scheme: write http://localhost:9324 (or https://localhost:9324)");
    CHECK(contains(error_of("127.0.0.1:9324"), "no scheme: write http://127.0.0.1:9324"));
    CHECK(contains(error_of("ftp://example.com"), "unsupported scheme 'ftp' (use http or https)"));
    // A password is never echoed.
    CHECK_FALSE(contains(error_of("http://user:secret@example.com"), "secret"));
    const auto ok = endpoint::parse("http://127.0.0.1:9324");
    CHECK(ok.port == 9324);
}
