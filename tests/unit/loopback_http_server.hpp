// A loopback HTTP/1.1 server for tests of code that fetches over HTTP: it listens on
// 127.0.0.1 port 0, answers each request with what a handler returns (optionally held back
// until the test releases it) and records every request it saw. The destructor closes the
// acceptor and every connection, so nothing outlives the test. Also: run_test (a coroutine
// with a guard against hangs), sleep and eventually (poll a condition).
//
// Time limits here only catch hangs: they must hold when the machine is 20 times slower
// than an idle one (a sanitizer build while another build runs), so they are far above what
// the tests take (well under a second each on an idle machine). What a test asserts about
// time it asserts on courier::testing::simulated_clock, or as an order of events.
#ifndef COURIER_TESTS_LOOPBACK_HTTP_SERVER_HPP
#define COURIER_TESTS_LOOPBACK_HTTP_SERVER_HPP

#include "http/client.hpp"
#include "scripted_http.hpp"
#include "test_support.hpp"

#include <courier/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// For the operations whose failure is expected (EOF, a closed acceptor).
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Runs `body(io)` as a coroutine; fails the test if it has not finished within `limit`.
template <class Body> void run_test(Body body, std::chrono::steady_clock::duration limit = hang_guard)
{
    asio::io_context io;
    run_coroutine(
        io, [&] { return body(io); },
        [&](const bool& done) {
            const auto deadline = std::chrono::steady_clock::now() + limit;
            while (!done && io.run_one_until(deadline) != 0)
            {
            }
        },
        "the test coroutine did not finish before the hang guard");
}

// Runs `body(io)` as a coroutine whose sockets are real and whose courier waits (retry
// pauses, batch windows) are on `clock`: whenever nothing is ready, simulated time jumps to
// the next sleeper, as simulated_clock::run does; with no sleeper, it waits for the sockets.
// Only for tests where no sleeper races a socket (a retry pause starts once an answer came),
// since time jumps as soon as the io_context is idle.
template <class Body>
void run_test_simulated(courier::testing::simulated_clock& clock, Body body,
                        std::chrono::steady_clock::duration limit = hang_guard)
{
    asio::io_context io;
    run_coroutine(
        io, [&] { return body(io); },
        [&](const bool& done) {
            const auto deadline = std::chrono::steady_clock::now() + limit;
            while (!done && std::chrono::steady_clock::now() < deadline)
            {
                clock.run(io);
                if (!done)
                {
                    io.restart();
                    io.run_one_for(std::chrono::milliseconds(10));
                }
            }
        },
        "the test coroutine did not finish before the hang guard");
}

inline asio::awaitable<void> sleep(std::chrono::steady_clock::duration d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(nothrow);
}

// Sends `req` through `c` and returns the courier::error the send threw; fails the test
// if it did not throw.
inline asio::awaitable<courier::error> expect_error(courier::http::client& c, courier::http::request req,
                                                    std::chrono::milliseconds timeout)
{
    try
    {
        co_await c.send(std::move(req), timeout);
    }
    catch (const courier::error& e)
    {
        co_return e;
    }
    FAIL("send did not throw courier::error");
    throw std::logic_error("unreachable");
}

// Polls `ready` every 10 ms until it holds (true), or `limit` passed (false). For events
// that come over sockets; `limit` only catches hangs.
inline asio::awaitable<bool> eventually(std::function<bool()> ready, std::chrono::milliseconds limit = hang_guard)
{
    constexpr std::chrono::milliseconds step{10};
    for (std::chrono::milliseconds waited{0}; !ready(); waited += step)
    {
        if (waited >= limit)
            co_return false;
        co_await sleep(step);
    }
    co_return true;
}

// Answers each request with `handler(request, index)`, recording the requests. While `hold()`
// is in force, answers wait (in the server, the request already recorded) until `release()`.
class http_server
{
public:
    using handler = std::function<reply(const seen_request&, std::size_t index)>;

    http_server(asio::io_context& io, handler h)
        : s_(std::make_shared<state>(io, std::move(h)))
    {
        asio::co_spawn(io, accept_loop(s_), asio::detached);
    }
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;
    ~http_server()
    {
        release();
        boost::system::error_code ignored;
        s_->acceptor.close(ignored);
        for (auto& weak : s_->streams)
            if (auto stream = weak.lock())
                stream->socket().close(ignored);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(s_->acceptor.local_endpoint().port()); }
    const std::vector<seen_request>& requests() const { return s_->requests; }
    void hold() { s_->holding = true; }
    void release()
    {
        s_->holding = false;
        for (auto& t : s_->held)
            t->cancel();
        s_->held.clear();
    }
    /// Answers waiting for `release()`.
    std::size_t held() const { return s_->held.size(); }

private:
    struct state
    {
        state(asio::io_context& io, handler h)
            : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
              on_request(h)
        {
        }
        tcp::acceptor acceptor;
        handler on_request;
        bool holding = false;
        std::vector<std::shared_ptr<asio::steady_timer>> held; // never expire; cancelled to release
        std::vector<seen_request> requests;
        std::vector<std::weak_ptr<beast::tcp_stream>> streams;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<state> s)
    {
        for (;;)
        {
            auto [ec, socket] = co_await s->acceptor.async_accept(nothrow);
            if (ec)
                co_return;
            auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
            s->streams.push_back(stream);
            asio::co_spawn(s->acceptor.get_executor(), serve(s, stream), asio::detached);
        }
    }

    static asio::awaitable<void> serve(std::shared_ptr<state> s, std::shared_ptr<beast::tcp_stream> stream)
    {
        beast::flat_buffer buffer;
        for (;;)
        {
            bhttp::request<bhttp::string_body> req;
            auto [ec, n] = co_await bhttp::async_read(*stream, buffer, req, nothrow);
            if (ec)
                co_return;
            seen_request seen;
            seen.method = std::string(req.method_string());
            seen.target = std::string(req.target());
            seen.body = req.body();
            for (const auto& field : req)
            {
                std::string name(field.name_string());
                for (char& c : name)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                seen.headers[name] = std::string(field.value());
            }
            const std::size_t index = s->requests.size();
            s->requests.push_back(seen);
            const reply r = s->on_request(seen, index);
            while (s->holding)
            {
                auto gate =
                    std::make_shared<asio::steady_timer>(stream->get_executor(), asio::steady_timer::time_point::max());
                s->held.push_back(gate);
                co_await gate->async_wait(nothrow);
            }
            bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
            for (const auto& [name, value] : r.headers)
                res.set(name, value);
            res.keep_alive(req.keep_alive());
            res.body() = r.body;
            res.prepare_payload();
            auto [wec, written] = co_await bhttp::async_write(*stream, res, nothrow);
            if (wec)
                co_return;
        }
    }

    std::shared_ptr<state> s_;
};

} // namespace courier_test

#endif
