// The signed AWS client's call on a one-thread io_context, where it runs in the caller's
// coroutine: cancellation the exchange in progress does not honour must not drop the
// server's answer (a long poll's messages would stay hidden until their visibility
// timeout), and cancellation before anything is sent ends the call at once.
#include "aws/signed_client.hpp"

#include "loopback_http_server.hpp"

#include <courier/aws/credentials_provider.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/write.hpp>

using namespace std::chrono_literals;
using courier_test::nothrow;
using courier_test::sleep;
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

// Accepts one connection; waits `pause` before reading the request, then answers 200.
asio::awaitable<void> slow_reader(tcp::acceptor& acceptor, std::chrono::milliseconds pause, std::size_t& body_size)
{
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec)
        co_return;
    co_await sleep(pause);
    beast::flat_buffer buffer;
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
            courier::aws::service_request r{.action = "Test", .resource = "queue", .content_type = "application/x-amz-json-1.0",
                                            .target = "Test.Call", .body = std::move(body)};
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
    std::size_t received = 0;
    asio::co_spawn(io, slow_reader(acceptor, 400ms, received), asio::detached);
    courier::aws::signed_client client(io.get_executor(), options_for(acceptor.local_endpoint().port()),
                                       {"sqs", "SQS", "sqs"}, &no_errors_expected);
    asio::cancellation_signal signal;
    outcome out;
    // Larger than the socket buffers: the write is still going on when the signal comes.
    const std::string big(24u << 20, 'x');
    call_from_route_like_coroutine(io, client, signal, big, out);
    asio::steady_timer later(io, 150ms);
    later.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::total); });
    io.run_for(10s);
    REQUIRE(out.done);
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
    std::size_t received = 0;
    asio::co_spawn(io, slow_reader(acceptor, 2s, received), asio::detached);
    courier::aws::signed_client client(io.get_executor(), options, {"sqs", "SQS", "sqs"}, &no_errors_expected);
    // The first call holds the only connection; the second waits for it and is cancelled
    // while waiting, before sending anything.
    asio::cancellation_signal first_signal, second_signal;
    outcome first, second;
    call_from_route_like_coroutine(io, client, first_signal, "{}", first);
    call_from_route_like_coroutine(io, client, second_signal, "{}", second);
    asio::steady_timer later(io, 100ms);
    later.async_wait([&](boost::system::error_code) { second_signal.emit(asio::cancellation_type::total); });
    const auto begin = std::chrono::steady_clock::now();
    while (!second.done && std::chrono::steady_clock::now() - begin < 5s)
        io.run_one_for(100ms);
    REQUIRE(second.done);
    CHECK(std::chrono::steady_clock::now() - begin < 1s);
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
