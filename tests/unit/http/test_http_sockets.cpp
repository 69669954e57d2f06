// The HTTP client (src/http/client.hpp) over real sockets, against scripted servers the tests
// start in-process on 127.0.0.1, port 0. The client's logic is tested over the in-memory
// transport (test_http_client.cpp); these prove the network connection underneath: requests
// and answers through TCP, keep-alive reuse, a request larger than the socket buffers (the
// non-blocking first write, then the asynchronous rest), a connection the server closed while
// idle, connection refused, the socket's own read timer, and cancellation of a socket read.
#include "http/client.hpp"
#include "loopback_http_server.hpp"

#include <courier/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/write.hpp>

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
using courier::http::endpoint;
using courier::http::request;
using courier::http::response;

namespace {

using courier_test::contains;
using courier_test::expect_error;
using courier_test::nothrow;
using courier_test::sleep;
using clock_type = std::chrono::steady_clock;

// Real sockets on loopback: each test takes milliseconds (the large request a few hundred).
// The limit only catches a hang; it is far above what a machine 20 times slower than usual
// needs, so a busy machine cannot fail these.
template <class Body> void run_test(Body body)
{
    courier_test::run_test(std::move(body), 60s);
}

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
    peer(tcp::socket s, server_state& st)
        : stream(std::move(s)),
          state(st)
    {
    }

    // The next request, or nothing once the client closed the connection.
    asio::awaitable<std::optional<bhttp::request<bhttp::string_body>>> read()
    {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(64u << 20); // Beast's default for requests is 1 MiB
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
        if (ec)
        {
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
        for (;;)
        {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), nothrow);
            if (ec)
            {
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

    // The receive buffer of the connections accepted from now on (SO_RCVBUF, which also
    // stops the kernel from growing it).
    void receive_buffer(int bytes) { shared_->acceptor.set_option(asio::socket_base::receive_buffer_size(bytes)); }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(shared_->acceptor.local_endpoint().port()); }
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
            : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
              run(std::move(s))
        {
        }
        tcp::acceptor acceptor;
        script run;
        server_state state;
        std::vector<std::weak_ptr<peer>> peers;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<shared> s)
    {
        for (;;)
        {
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

TEST_CASE("client over sockets: keep-alive reuses one connection and sends Host")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, echo);
        client c(io.get_executor(), endpoint::parse(server.url()));
        for (int i = 0; i < 3; ++i)
        {
            response r = co_await c.send(post("body " + std::to_string(i)), 30s);
            CHECK(r.status == 200);
            CHECK(r.body == "body " + std::to_string(i));
            CHECK(r.header("x-test") == "yes");
        }
        CHECK(server.state().accepted == 1);
        CHECK(server.state().requests == 3);
        CHECK(server.state().hosts.at(0) == c.remote().host_header);
        CHECK(c.stats().idle == 1);
    });
}

TEST_CASE("client over sockets: a request larger than the socket buffers arrives whole, on a server slow to read")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        // The server's receive buffer is pinned small and the client's send buffer cannot grow
        // past net.ipv4.tcp_wmem's maximum (4 MiB by default), so the first, non-blocking
        // write takes less than 8 MiB whatever the timing, and the rest goes the asynchronous
        // way; the server starts reading only after a pause. Nothing here depends on how fast
        // the machine is: the limits (30 s, and the runner's 60 s) only catch a hang.
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            co_await sleep(50ms);
            co_await echo(p);
        });
        server.receive_buffer(64 * 1024);
        client c(io.get_executor(), endpoint::parse(server.url()));
        std::string big(8u << 20, 'x');
        for (std::size_t i = 0; i < big.size(); i += 4096)
            big[i] = static_cast<char>('a' + (i / 4096) % 26);
        response r = co_await c.send(post(big), 30s);
        CHECK(r.status == 200);
        CHECK(r.body.size() == big.size());
        CHECK(r.body == big);
        // And the connection is fine for the next one.
        response again = co_await c.send(post("small"), 30s);
        CHECK(again.body == "small");
        CHECK(server.state().accepted == 1);
    });
}

TEST_CASE("client over sockets: a connection the server closed while idle is retried once on a new one")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        // Answers one request, then closes the connection, as servers and load balancers do
        // with idle keep-alive connections.
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (auto req = co_await p.read())
                co_await p.reply(200, "fresh");
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        CHECK((co_await c.send(post("1"), 30s)).body == "fresh");
        while (server.state().open != 0) // the server has closed it
            co_await sleep(1ms);
        CHECK(c.stats().idle == 1);
        CHECK((co_await c.send(post("2"), 30s)).body == "fresh");
        CHECK(server.state().accepted == 2);
        CHECK(server.state().requests == 2);
    });
}

TEST_CASE("client over sockets: connection refused is a transport failure")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        std::uint16_t port = 0;
        {
            tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
            port = a.local_endpoint().port();
        }
        client c(io.get_executor(), endpoint::parse("http://127.0.0.1:" + std::to_string(port)));
        auto e = co_await expect_error(c, post("x"), 30s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "127.0.0.1:" + std::to_string(port) + ": connect failed"));
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("client over sockets: a slow server hits the read timeout of the socket's own timer")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (co_await p.read())
                co_await p.wait_closed();
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        const auto start = clock_type::now();
        auto e = co_await expect_error(c, post("secret-body"), 200ms);
        // Real time: only the lower bound holds on any machine; the runner's limit bounds the rest.
        CHECK(clock_type::now() - start >= 200ms);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "read timeout after 200 ms"));
        CHECK_FALSE(contains(e.what(), "secret-body"));
        CHECK(c.stats().open == 0);
        while (server.state().closed_by_client == 0)
            co_await sleep(1ms);
    });
}

TEST_CASE("client over sockets: cancelling the awaiting coroutine aborts the read and closes the socket")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        test_server server(io, [](peer& p) -> asio::awaitable<void> {
            if (co_await p.read())
                co_await p.wait_closed();
        });
        client c(io.get_executor(), endpoint::parse(server.url()));
        asio::cancellation_signal signal;
        std::optional<std::exception_ptr> outcome;
        asio::co_spawn(
            io, c.send(post("x"), 30s),
            asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, response) { outcome = e; }));
        while (server.state().requests == 0)
            co_await sleep(1ms);
        signal.emit(asio::cancellation_type::terminal);
        while (!outcome)
            co_await sleep(1ms);
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
        while (server.state().closed_by_client == 0) // the server sees the close
            co_await sleep(1ms);
    });
}
