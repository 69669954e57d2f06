// The signed AWS client's call on a one-thread io_context, where it runs in the caller's
// coroutine: cancellation the exchange in progress does not honour must not drop the
// server's answer (a long poll's messages would stay hidden until their visibility
// timeout), and cancellation before anything is sent ends the call at once. The server is
// gated, not timed: each test emits its signal once the server saw the request start, so
// how busy the machine is does not matter.
#include "aws/signed_client.hpp"
#include "loopback_http_server.hpp"

#include <courier/aws/credentials_provider.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/write.hpp>

using namespace std::chrono_literals;
using courier_test::nothrow;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

courier::aws::client_options options_for(unsigned short port)
{
    courier::aws::client_options o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.region = "us-east-1";
    o.credentials = courier::aws::static_credentials({.access_key_id = "AKIDTEST", .secret_access_key = "secret"});
    o.log = courier::logger(courier::log_level::off);
    return o;
}

courier::aws::failed_answer no_errors_expected(const courier::http::response& r, const courier::aws::service_request&)
{
    FAIL("unexpected status " << r.status);
    return {courier::error(courier::errc::bad_response, "unexpected"), false, false};
}

// Accepts one connection and reads the first bytes of the request (`started` becomes true),
// then reads no more until `gate` is cancelled: a request larger than the socket buffers is
// then still being written. Then it reads the rest and answers 200.
asio::awaitable<void> gated_reader(tcp::acceptor& acceptor, bool& started, asio::steady_timer& gate,
                                   std::size_t& body_size)
{
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec)
        co_return;
    beast::flat_buffer buffer;
    auto [fec, first] = co_await socket.async_read_some(buffer.prepare(4096), nothrow);
    if (fec)
        co_return;
    buffer.commit(first);
    started = true;
    co_await gate.async_wait(nothrow);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    auto [rec, n] = co_await bhttp::async_read(socket, buffer, parser, nothrow);
    if (rec)
        co_return;
    body_size = parser.get().body().size();
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.body() = R"({"answer":"kept"})";
    res.prepare_payload();
    co_await bhttp::async_write(socket, res, nothrow);
}

// Runs `io` until `done()` holds, one handler at a time; the limit only catches a hang (see
// loopback_http_server.hpp).
template <class Done> void run_until(asio::io_context& io, Done done)
{
    const auto deadline = std::chrono::steady_clock::now() + courier_test::hang_guard;
    while (!done() && io.run_one_until(deadline) != 0)
    {
    }
    REQUIRE_MESSAGE(done(), "the io_context stopped or the hang guard passed first");
}

struct outcome
{
    bool done = false;
    std::exception_ptr error;
    std::string body;
};

// Calls `client` from a coroutine that lets total cancellation through (as the route's
// receive loop does), with `signal` bound to it.
void call_from_route_like_coroutine(asio::io_context& io, courier::aws::signed_client& client,
                                    asio::cancellation_signal& signal, std::string body, outcome& out)
{
    asio::co_spawn(
        io,
        [&client, &out, body = std::move(body)]() mutable -> asio::awaitable<void> {
            co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
            courier::aws::service_request r{.action = "Test",
                                            .resource = "queue",
                                            .content_type = "application/x-amz-json-1.0",
                                            .target = "Test.Call",
                                            .body = std::move(body)};
            out.body = co_await client.call(std::move(r), 5s);
        },
        asio::bind_cancellation_slot(signal.slot(), [&out](std::exception_ptr e) {
            out.done = true;
            out.error = e;
        }));
}

} // namespace

TEST_CASE("signed client: total cancellation during a write the server has not read yet keeps the answer")
{
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    bool started = false;
    asio::steady_timer gate(io, asio::steady_timer::time_point::max());
    std::size_t received = 0;
    asio::co_spawn(io, gated_reader(acceptor, started, gate, received), asio::detached);
    courier::aws::signed_client client(io.get_executor(), options_for(acceptor.local_endpoint().port()),
                                       {"sqs", "SQS", "sqs"}, &no_errors_expected);
    asio::cancellation_signal signal;
    outcome out;
    // Larger than the socket buffers: the write is still going on when the signal comes, since
    // the server has read only its first bytes.
    const std::string big(24u << 20, 'x');
    call_from_route_like_coroutine(io, client, signal, big, out);
    run_until(io, [&] { return started; });
    REQUIRE_FALSE(out.done);
    signal.emit(asio::cancellation_type::total);
    gate.cancel();
    run_until(io, [&] { return out.done; });
    CHECK_FALSE(out.error);
    CHECK(out.body == R"({"answer":"kept"})");
    CHECK(received == big.size());
}

TEST_CASE("signed client: cancellation before anything is sent ends the call at once")
{
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    auto options = options_for(acceptor.local_endpoint().port());
    options.max_connections = 1;
    bool started = false;
    asio::steady_timer gate(io, asio::steady_timer::time_point::max()); // never opened
    std::size_t received = 0;
    asio::co_spawn(io, gated_reader(acceptor, started, gate, received), asio::detached);
    courier::aws::signed_client client(io.get_executor(), options, {"sqs", "SQS", "sqs"}, &no_errors_expected);
    // The first call holds the only connection (the server never answers it); the second
    // waits for that connection and is cancelled while waiting, before sending anything.
    asio::cancellation_signal first_signal, second_signal;
    outcome first, second;
    call_from_route_like_coroutine(io, client, first_signal, "{}", first);
    call_from_route_like_coroutine(io, client, second_signal, "{}", second);
    run_until(io, [&] { return started; });
    second_signal.emit(asio::cancellation_type::total);
    run_until(io, [&] { return second.done; });
    CHECK_FALSE(first.done); // "at once": not after the first call freed the connection
    REQUIRE(second.error);
    try
    {
        std::rethrow_exception(second.error);
    }
    catch (const boost::system::system_error& e)
    {
        CHECK(e.code() == asio::error::operation_aborted);
    }
    io.stop();
}
