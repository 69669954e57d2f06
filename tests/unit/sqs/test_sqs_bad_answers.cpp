// The SQS client and provider against a scripted "SQS server" on 127.0.0.1 that answers
// with what a real one never should: bodies of the wrong shape, missing or mistyped fields,
// invalid JSON, batch answers that leave entries out or fail some, bodies over the client's cap
// and a slow-loris answer. Each must end in a courier::error that says what was wrong
// (asserted below) within a bounded time, the provider must keep working once the server
// answers properly again, and a message from a garbage receive must never be handed to a
// handler nor acknowledged. Retry pauses run on a simulated clock (run_test_simulated); the
// wall-clock limits left only catch hangs, or say why they hold on a slow machine.
#include "loopback_http_server.hpp"
#include "metrics/request_metrics.hpp"

#include <courier/aws/credentials_provider.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using courier::errc;
using courier_test::contains;
using courier_test::nothrow;
using courier_test::reply;
using courier_test::seen_request;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view queue_url = "http://127.0.0.1/000000000000/bad-answers";

using courier_test::aws_action;

courier::sqs_client_options client_options(const std::string& endpoint, courier_test::log_capture& logs)
{
    courier::sqs_client_options o;
    o.aws.endpoint = endpoint;
    o.aws.region = "us-east-1";
    o.aws.credentials = courier::aws::static_credentials(
        {.access_key_id = "AKIDCOURIERTEST", .secret_access_key = "courier-test-secret"});
    // One attempt: a 200 answer with a bad body is not retried by the transport anyway,
    // and the cases that are (malformed HTTP) are covered with retries below.
    o.aws.max_attempts = 1;
    o.aws.request_timeout = 2s;
    o.aws.log = logs.make(courier::log_level::debug);
    return o;
}

courier::sqs_queue_options queue_options()
{
    // No long poll: the scripted server answers at once.
    return {.queue_url = std::string(queue_url), .wait_time = 0s, .visibility_timeout = 30s, .batch_window = 1ms};
}

// A scripted SQS endpoint: the provider's start-up check (GetQueueAttributes) is answered as
// a queue with a 30 s visibility timeout; every other request goes to the test's handler.
struct sqs_server : courier_test::http_server
{
    sqs_server(asio::io_context& io, handler h)
        : http_server(io, [h = std::move(h)](const seen_request& r, std::size_t index) -> reply {
              if (aws_action(r) == "GetQueueAttributes")
                  return {200, std::string(courier_test::sqs_queue_attributes)};
              return h(r, index);
          })
    {
    }
};

// Runs `op` and returns the courier::error it threw; fails the test if it threw nothing
// or something else.
template <class Op> asio::awaitable<courier::error> expect_error(Op op)
{
    try
    {
        co_await op();
    }
    catch (const courier::error& e)
    {
        co_return e;
    }
    catch (const std::exception& e)
    {
        FAIL("threw a non-courier exception: " << e.what());
    }
    FAIL("did not throw");
    throw std::logic_error("unreachable");
}

const std::string good_message =
    R"({"Messages":[{"MessageId":"m-good","ReceiptHandle":"r-good","Body":"{\"ok\":true}"}]})";

// Answers every connection's first read with `answer`, then closes it; counts connections.
void answer_every_connection(asio::io_context& io, tcp::acceptor& acceptor, std::string answer,
                             std::atomic<int>& connections)
{
    asio::co_spawn(
        io,
        [&io, &acceptor, answer = std::move(answer), &connections]() -> asio::awaitable<void> {
            for (;;)
            {
                auto [ec, socket] = co_await acceptor.async_accept(nothrow);
                if (ec)
                    co_return;
                ++connections;
                auto s = std::make_shared<tcp::socket>(std::move(socket));
                asio::co_spawn(
                    io,
                    [s, answer]() -> asio::awaitable<void> {
                        char scratch[4096];
                        co_await s->async_read_some(asio::buffer(scratch), nothrow);
                        co_await asio::async_write(*s, asio::buffer(answer), nothrow);
                        boost::system::error_code ignored;
                        s->shutdown(tcp::socket::shutdown_both, ignored);
                    },
                    asio::detached);
            }
        },
        asio::detached);
}

} // namespace

TEST_CASE("sqs bad answers: a ReceiveMessage answer of the wrong shape is a bad_response naming the problem")
{
    struct bad_case
    {
        std::string body;
        std::string expected;
    };
    const std::vector<bad_case> cases = {
        {"[]", "the body is not a JSON object"},
        {"[{\"Messages\":[]}]", "the body is not a JSON object"},
        {"42", "the body is not a JSON object"},
        {"\"Messages\"", "the body is not a JSON object"},
        {R"({"Messages":{}})", "Messages is not an array"},
        {R"({"Messages":"m-1"})", "Messages is not an array"},
        {R"({"Messages":17})", "Messages is not an array"},
        {"not json at all", "the body is not valid JSON"},
        {R"({"Messages":[{"MessageId":"m-1",)", "the body is not valid JSON"},
        {"{\"Messages\":[{\"Body\":\"\xff\xfe\"}]}", "the body is not valid JSON"},
        {"", "the body is empty"},
    };
    courier_test::log_capture logs;
    std::size_t next = 0;
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            REQUIRE(aws_action(r) == "ReceiveMessage");
            return {200, next < cases.size() ? cases[next].body : good_message};
        });
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
        auto provider = courier::make_sqs_provider(client, queue_options());
        for (; next < cases.size(); ++next)
        {
            CAPTURE(cases[next].body);
            const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->receive(10); });
            CHECK(e.code() == errc::bad_response);
            CHECK_MESSAGE(contains(e.detail(), cases[next].expected), e.what());
            CHECK(e.context().action == "ReceiveMessage");
        }
        // The same provider and connection pool work once the server answers properly.
        const auto messages = co_await provider->receive(10);
        REQUIRE(messages.size() == 1);
        CHECK(messages[0].id == "m-good");
        CHECK(messages[0].body == R"({"ok":true})");
    });
}

TEST_CASE("sqs bad answers: entries with missing or mistyped fields are never delivered nor acked")
{
    // One good entry among broken ones; the broken ones are left in the queue (SQS makes
    // them visible again and, with a redrive policy, dead-letters them).
    const std::string batch = R"({"Messages":[
        {"MessageId":"m-no-receipt","Body":"a"},
        {"ReceiptHandle":"r-no-id","Body":"b"},
        {"MessageId":"m-no-body","ReceiptHandle":"r-no-body"},
        {"MessageId":7,"ReceiptHandle":"r-numeric-id","Body":"c"},
        {"MessageId":"m-numeric-body","ReceiptHandle":"r-numeric-body","Body":12},
        {"MessageId":"m-receipt-array","ReceiptHandle":["r"],"Body":"d"},
        "just a string",
        {"MessageId":"m-bad-md5","ReceiptHandle":"r-bad-md5","Body":"e","MD5OfBody":"00000000000000000000000000000000"},
        {"MessageId":"m-good","ReceiptHandle":"r-good","Body":"{\"ok\":true}"}
    ]})";
    courier_test::log_capture logs;
    std::vector<std::string> handled;
    std::vector<std::string> delete_bodies;
    std::atomic<int> receives{0};
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            const auto action = aws_action(r);
            if (action == "ReceiveMessage")
                return {200, ++receives == 1 ? batch : std::string("{}")};
            if (action == "DeleteMessageBatch")
            {
                delete_bodies.push_back(r.body);
                return {200, R"({"Successful":[{"Id":"0"}],"Failed":[]})"};
            }
            return {400, R"({"__type":"com.amazonaws.sqs#InvalidAction","message":"unexpected"})"};
        });
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
        std::vector<courier::route> routes;
        routes.emplace_back("bad-entries", courier::make_sqs_provider(client, queue_options()),
                            [&](const courier::message& m) -> asio::awaitable<void> {
                                handled.push_back(m.id);
                                co_return;
                            });
        courier::dispatcher d(io.get_executor(), std::move(routes), {.log = logs.make(courier::log_level::debug)});
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                // Stop once the good message is acked and a few more receives went by, so a
                // late (wrong) ack of a rejected entry would have had the time to show up.
                co_await courier_test::eventually([&] { return !delete_bodies.empty() && receives >= 4; });
                d.stop();
            },
            asio::detached);
        const auto kind = co_await d.run();
        CHECK(kind == courier::stop_kind::graceful);
    });
    CHECK(handled == std::vector<std::string>{"m-good"});
    REQUIRE(delete_bodies.size() == 1);
    CHECK(contains(delete_bodies[0], "r-good"));
    for (const char* receipt : {"r-no-id", "r-no-body", "r-numeric-id", "r-numeric-body", "r-bad-md5"})
        CHECK_MESSAGE(!contains(delete_bodies[0], receipt), receipt);
    // Each rejection is logged with its reason.
    CHECK(logs.contains("m-no-receipt received message rejected (ReceiptHandle is missing or empty)"));
    CHECK(logs.contains("received message rejected (MessageId is missing or empty)"));
    CHECK(logs.contains("m-no-body received message rejected (Body is missing)"));
    CHECK(logs.contains("MessageId is not a string"));
    CHECK(logs.contains("m-numeric-body received message rejected (Body is not a string)"));
    CHECK(logs.contains("m-receipt-array received message rejected (ReceiptHandle is not a string"));
    CHECK(logs.contains("received message rejected (the entry is not a JSON object)"));
    CHECK(logs.contains("m-bad-md5 received message rejected (MD5OfBody 00000000000000000000000000000000 does "
                        "not match the body"));
}

TEST_CASE("sqs bad answers: a bad DeleteMessageBatch answer fails the ack with a bad_response")
{
    struct bad_case
    {
        std::string body;
        std::string expected;
    };
    const std::vector<bad_case> cases = {
        {"[]", "the body is not a JSON object"},
        {"<DeleteMessageBatchResponse/>", "the body is not valid JSON"},
        {R"({"Successful":{"Id":"0"}})", "Successful"},
        {R"({"Successful":[{"Id":0}]})", "Successful[0].Id is not a string"},
        {R"({"Successful":[{}]})", "Successful[0].Id is missing or empty"},
        {R"({"Failed":[{"Id":"0","Code":"X","SenderFault":"true"}]})", "Failed[0].SenderFault is not a boolean"},
        {R"({"Failed":[{"Code":"InternalError"}]})", "Failed[0].Id is missing or empty"},
        // Ids the request never used: not a number, and a number past every size_t.
        {R"({"Failed":[{"Id":"receipt-1","Code":"X","SenderFault":true}]})", "Failed entry Id \"receipt-1\""},
        {R"({"Failed":[{"Id":"99999999999999999999999","Code":"X","SenderFault":true}]})",
         "Failed entry Id \"99999999999999999999999\""},
    };
    courier_test::log_capture logs;
    std::size_t next = 0;
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            const auto action = aws_action(r);
            if (action == "ReceiveMessage")
                return {200, good_message};
            REQUIRE(action == "DeleteMessageBatch");
            return {200, next < cases.size() ? cases[next].body : R"({"Successful":[{"Id":"0"}]})"};
        });
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
        auto provider = courier::make_sqs_provider(client, queue_options());
        for (; next <= cases.size(); ++next)
        {
            const auto messages = co_await provider->receive(1);
            REQUIRE(messages.size() == 1);
            const auto& m = messages[0];
            if (next == cases.size())
            {
                co_await provider->ack(m); // a proper answer again: the ack is confirmed
                break;
            }
            CAPTURE(cases[next].body);
            const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->ack(m); });
            CHECK(e.code() == errc::bad_response);
            CHECK_MESSAGE(contains(e.detail(), cases[next].expected), e.what());
            CHECK(e.context().action == "DeleteMessageBatch");
        }
        CHECK(next == cases.size());
    });
}

TEST_CASE("sqs bad answers: a route's ack that the server refuses is counted, logged, and the route drains")
{
    // The route settles SQS acks by callback (ack_by_callback::start_ack): a failed one must
    // still reach the route's books, once, and not hold the graceful stop.
    courier_test::log_capture logs;
    std::atomic<int> receives{0};
    std::atomic<int> deletes{0};
    std::atomic<int> handled{0};
    std::uint64_t acked = 0, errors = 0;
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            const auto action = aws_action(r);
            if (action == "ReceiveMessage")
                return {200, ++receives == 1 ? good_message : std::string("{}")};
            REQUIRE(action == "DeleteMessageBatch");
            ++deletes;
            return {200, R"({"Successful":[],"Failed":[{"Id":"0","Code":"ReceiptHandleIsInvalid",)"
                         R"("Message":"The receipt handle has expired","SenderFault":true}]})"};
        });
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
        auto provider = courier::make_sqs_provider(client, queue_options());

        std::vector<courier::route> routes;
        routes.emplace_back("refused-ack", provider, [&](const courier::message&) -> asio::awaitable<void> {
            ++handled;
            co_return;
        });
        courier::dispatcher d(io.get_executor(), std::move(routes), {.log = logs.make(courier::log_level::debug)});
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await courier_test::eventually([&] { return deletes >= 1 && receives >= 3; });
                d.stop();
            },
            asio::detached);
        const auto kind = co_await d.run();
        CHECK(kind == courier::stop_kind::graceful);
        acked = d.routes().at(0).stats().acked;
        errors = d.routes().at(0).stats().provider_errors;
    });
    CHECK(handled == 1);
    CHECK(deletes == 1); // a sender fault is final: not retried
    CHECK(acked == 0);
    CHECK(errors == 1);
    CHECK(logs.contains("m-good ack failed"));
    CHECK(logs.contains("ReceiptHandleIsInvalid"));
    CHECK(logs.contains("the message will be delivered again"));
}

TEST_CASE("sqs bad answers: a bad SendMessage answer is a bad_response, never a message id")
{
    struct bad_case
    {
        std::string body;
        std::string expected;
    };
    const std::vector<bad_case> cases = {
        {"[\"m-1\"]", "the body is not a JSON object"},
        {"{}", "MessageId is missing or empty"},
        {R"({"MessageId":""})", "MessageId is missing or empty"},
        {R"({"MessageId":12345})", "MessageId is not a string"},
        {R"({"MessageId":"m-1","MD5OfMessageBody":"0123"})", "MD5OfMessageBody does not match the body sent"},
        {R"({"MessageId":"m-1")", "the body is not valid JSON"},
    };
    courier_test::log_capture logs;
    std::size_t next = 0;
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            REQUIRE(aws_action(r) == "SendMessage");
            return {200, next < cases.size() ? cases[next].body : R"({"MessageId":"m-sent"})"};
        });
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
        for (; next < cases.size(); ++next)
        {
            CAPTURE(cases[next].body);
            const auto e = co_await expect_error([&]() -> asio::awaitable<void> {
                courier::outgoing_message msg{.body = "hello"};
                co_await client->send(std::string(queue_url), std::move(msg));
            });
            CHECK(e.code() == errc::bad_response);
            CHECK_MESSAGE(contains(e.detail(), cases[next].expected), e.what());
            CHECK(e.context().action == "SendMessage");
        }
        courier::outgoing_message msg{.body = "hello"};
        CHECK(co_await client->send(std::string(queue_url), std::move(msg)) == "m-sent");
    });
}

TEST_CASE("sqs bad answers: a body over the client's cap is refused, then the client works again")
{
    courier_test::log_capture logs;
    std::atomic<int> receives{0};
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request&, std::size_t) -> reply {
            // A valid answer, just too big: one message with an 8 KiB body.
            if (++receives == 1)
                return {200, R"({"Messages":[{"MessageId":"m-big","ReceiptHandle":"r-big","Body":")" +
                                 std::string(8192, 'x') + "\"}]}"};
            return {200, good_message};
        });
        auto options = client_options(server.url(), logs);
        options.aws.max_response_bytes = 4096;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->receive(10); });
        CHECK(e.code() == errc::bad_response);
        CHECK_MESSAGE(contains(e.detail(), "response body exceeds the limit of 4096 bytes"), e.what());
        CHECK(e.context().action == "ReceiveMessage");
        const auto messages = co_await provider->receive(10);
        REQUIRE(messages.size() == 1);
        CHECK(messages[0].id == "m-good");
    });
}

TEST_CASE("sqs bad answers: malformed HTTP is retried, then fails with a bad_response")
{
    // Garbage instead of a status line, on every connection: the client retries (as the
    // SDKs do for unreadable answers) and gives up after max_attempts, after the standard
    // mode's pauses (below 1 s, then below 2 s) on its clock.
    courier_test::log_capture logs;
    std::atomic<int> connections{0};
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    courier_test::run_test_simulated(*clock, [&](asio::io_context& io) -> asio::awaitable<void> {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        answer_every_connection(io, acceptor, "SQS/9.9 banana\r\n\r\n{\"Messages\":[]}", connections);
        auto options = client_options("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), logs);
        options.aws.max_attempts = 3;
        options.aws.clock = clock;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        const auto start = clock->now();
        const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->receive(10); });
        CHECK(clock->now() - start < 3s);
        CHECK(e.code() == errc::bad_response);
        CHECK_MESSAGE(contains(e.detail(), "malformed HTTP response"), e.what());
        CHECK(connections == 3);
        acceptor.close();
    });
}

TEST_CASE("sqs bad answers: the retry delays are the client's to set")
{
    // 20 attempts against a server that answers 503 every time: with the SDKs' default
    // backoff (1 s base, 20 s cap) the 19 pauses would add up to about two and a half
    // minutes; with a 100 ms base and a 300 ms cap, to at most 100 + 200 + 17 * 300 ms.
    courier_test::log_capture logs;
    std::atomic<int> requests{0}; // one per connection
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    courier_test::run_test_simulated(*clock, [&](asio::io_context& io) -> asio::awaitable<void> {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        answer_every_connection(io, acceptor,
                                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                                requests);
        auto options = client_options("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), logs);
        options.aws.max_attempts = 20;
        options.aws.retry_base_delay = 100ms;
        options.aws.max_retry_delay = 300ms;
        options.aws.clock = clock;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        const auto start = clock->now();
        const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->receive(10); });
        CHECK(clock->now() - start > 0ms);
        CHECK(clock->now() - start <= 5400ms);
        CHECK(requests == 20);
        CHECK_MESSAGE(contains(e.what(), "503"), e.what());
        acceptor.close();
    });
    asio::io_context io;
    auto negative = client_options("http://127.0.0.1:1", logs);
    negative.aws.retry_base_delay = -1ms;
    CHECK_THROWS_AS(courier::sqs_client(io.get_executor(), negative), courier::error);
}

TEST_CASE("sqs bad answers: a slow-loris answer times out within the request timeout")
{
    // Headers at once, then the body one byte per second: every read makes progress, so
    // only a deadline on the whole exchange (not per read) ends it.
    courier_test::log_capture logs;
    std::atomic<int> connections{0};
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        std::vector<std::weak_ptr<tcp::socket>> sockets;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (;;)
                {
                    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
                    if (ec)
                        co_return;
                    const bool slow = ++connections == 1;
                    auto s = std::make_shared<tcp::socket>(std::move(socket));
                    sockets.push_back(s);
                    asio::co_spawn(
                        io,
                        [s, slow]() -> asio::awaitable<void> {
                            beast::flat_buffer buffer;
                            for (;;)
                            {
                                bhttp::request<bhttp::string_body> req;
                                auto [rec, n] = co_await bhttp::async_read(*s, buffer, req, nothrow);
                                if (rec)
                                    co_return;
                                const std::string body = R"({"MessageId":"m-sent"})";
                                const std::string head =
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                                    "Content-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n";
                                auto [hec, hn] = co_await asio::async_write(*s, asio::buffer(head), nothrow);
                                if (hec)
                                    co_return;
                                if (!slow)
                                {
                                    co_await asio::async_write(*s, asio::buffer(body), nothrow);
                                    continue;
                                }
                                for (char c : body)
                                {
                                    auto [wec, wn] = co_await asio::async_write(*s, asio::buffer(&c, 1), nothrow);
                                    if (wec)
                                        co_return;
                                    co_await courier_test::sleep(1s);
                                }
                            }
                        },
                        asio::detached);
                }
            },
            asio::detached);
        auto options = client_options("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()), logs);
        options.aws.request_timeout = 1500ms;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        // SendMessage: its deadline is the request timeout. A receive's is the same
        // exchange deadline plus its long-poll wait and a 5 s margin, too slow for a unit test.
        // The socket deadline is real time: its error text says which deadline ended the
        // exchange, and the bound below that it was one on the whole exchange: with a deadline
        // per read, each byte arriving within a second, the body would take 22 s. 15 s is far
        // above the 1.5 s expected even on a machine 20 times slower (the work is a few ms).
        const auto start = std::chrono::steady_clock::now();
        const auto e = co_await expect_error([&]() -> asio::awaitable<void> {
            courier::outgoing_message msg{.body = "hello"};
            co_await client->send(std::string(queue_url), std::move(msg));
        });
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= 1400ms);
        CHECK(took < 15s);
        CHECK(e.code() == errc::transport_failed);
        CHECK_MESSAGE(contains(e.detail(), "timeout after 1500 ms"), e.what());
        CHECK(e.context().action == "SendMessage");
        // The slow connection was dropped; a new one serves the next request.
        courier::outgoing_message msg{.body = "hello"};
        CHECK(co_await client->send(std::string(queue_url), std::move(msg)) == "m-sent");
        CHECK(connections == 2);
        acceptor.close();
        boost::system::error_code ignored;
        for (auto& weak : sockets)
            if (auto s = weak.lock())
                s->close(ignored);
    });
}

namespace {

const std::string two_messages = R"({"Messages":[{"MessageId":"m-1","ReceiptHandle":"r-1","Body":"a"},)"
                                 R"({"MessageId":"m-2","ReceiptHandle":"r-2","Body":"b"}]})";

} // namespace

TEST_CASE("sqs bad answers: a batch answer that leaves an entry out fails that entry, logged with its message id")
{
    // Counting an entry the server never confirmed as done would lose an acknowledgement (the
    // message is deleted as far as courier knows, and comes back) or a retry's delay.
    for (const std::string action : {"DeleteMessageBatch", "ChangeMessageVisibilityBatch"})
    {
        CAPTURE(action);
        courier_test::log_capture logs;
        std::vector<std::string> batch_bodies;
        courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
            sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
                if (aws_action(r) == "ReceiveMessage")
                    return {200, two_messages};
                REQUIRE(aws_action(r) == action);
                batch_bodies.push_back(r.body);
                return {200, R"({"Successful":[{"Id":"0"}],"Failed":[]})"}; // "1" is in neither list
            });
            auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(server.url(), logs));
            auto provider = courier::make_sqs_provider(client, queue_options());
            const auto messages = co_await provider->receive(10);
            REQUIRE(messages.size() == 2);
            // Both join one batch: the second settles the last message in hand, which sends it.
            auto settle = [&](const courier::message& m) {
                return action == "DeleteMessageBatch" ? provider->ack(m)
                                                      : provider->capabilities().retry->retry(m, 30s);
            };
            auto first = settle(messages[0]);
            auto second = settle(messages[1]);
            co_await std::move(first);
            const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await std::move(second); });
            CHECK(e.code() == errc::bad_response);
            CHECK_MESSAGE(contains(e.detail(), "answer lists the entry under neither Successful nor Failed"), e.what());
            CHECK(e.context().message_id == "m-2");
            CHECK(e.context().action == action);
            CHECK(e.context().queue == queue_url);
        });
        REQUIRE(batch_bodies.size() == 1); // not retried: the answer was a 200
        CHECK(contains(batch_bodies[0], "r-1"));
        CHECK(contains(batch_bodies[0], "r-2"));
        CHECK(logs.contains("WARN m-2 " + action + " answer lists the entry under neither Successful nor Failed"));
    }
}

TEST_CASE("sqs bad answers: batch entries the server failed are sent again after the standard backoff")
{
    // Two answers fail entry "1" with InternalError (the server's fault), the third takes it:
    // each resend waits the pause of a whole-request retry (below 20 s, then below 40 s
    // capped at 20 s, with these options) on the client's clock, and carries only that entry.
    courier_test::log_capture logs;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    std::vector<courier::clock::time_point> sent_at;
    std::vector<std::string> batch_bodies;
    courier_test::run_test_simulated(*clock, [&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            if (aws_action(r) == "ReceiveMessage")
                return {200, two_messages};
            REQUIRE(aws_action(r) == "DeleteMessageBatch");
            sent_at.push_back(clock->now());
            batch_bodies.push_back(r.body);
            if (batch_bodies.size() == 1)
                return {200, R"({"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","Code":"InternalError",)"
                             R"("Message":"try again","SenderFault":false}]})"};
            if (batch_bodies.size() == 2)
                return {200, R"({"Failed":[{"Id":"0","Code":"InternalError","SenderFault":false}]})"};
            return {200, R"({"Successful":[{"Id":"0"}]})"};
        });
        auto options = client_options(server.url(), logs);
        options.aws.clock = clock;
        options.aws.max_attempts = 3;
        options.aws.retry_base_delay = 20s;
        options.aws.max_retry_delay = 20s;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        const auto messages = co_await provider->receive(10);
        REQUIRE(messages.size() == 2);
        auto first = provider->ack(messages[0]);
        auto second = provider->ack(messages[1]);
        co_await std::move(first);
        co_await std::move(second);
    });
    REQUIRE(batch_bodies.size() == 3);
    CHECK(contains(batch_bodies[0], "r-1"));
    CHECK(contains(batch_bodies[0], "r-2"));
    for (const std::size_t i : {1u, 2u})
    {
        CHECK_FALSE(contains(batch_bodies[i], "r-1"));
        CHECK(contains(batch_bodies[i], R"({"Id":"0","ReceiptHandle":"r-2"})"));
    }
    // Full jitter: each pause is random below its ceiling; both zero would mean no pause.
    const auto first_pause = sent_at[1] - sent_at[0];
    const auto second_pause = sent_at[2] - sent_at[1];
    CHECK(first_pause < 20s);
    CHECK(second_pause < 20s);
    CHECK(first_pause + second_pause > 0s);
}

TEST_CASE("sqs bad answers: a batch entry the server keeps failing fails after the attempts allowed")
{
    courier_test::log_capture logs;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    int batches = 0;
    courier_test::run_test_simulated(*clock, [&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            if (aws_action(r) == "ReceiveMessage")
                return {200, good_message};
            ++batches;
            return {200, R"({"Failed":[{"Id":"0","Code":"ServiceUnavailable","Message":"busy","SenderFault":false}]})"};
        });
        auto options = client_options(server.url(), logs);
        options.aws.clock = clock;
        options.aws.max_attempts = 4;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        const auto messages = co_await provider->receive(10);
        REQUIRE(messages.size() == 1);
        const auto e = co_await expect_error([&]() -> asio::awaitable<void> { co_await provider->ack(messages[0]); });
        CHECK(e.code() == errc::server_error);
        CHECK(e.context().server_code == "ServiceUnavailable");
        CHECK(e.context().message_id == "m-good");
    });
    CHECK(batches == 4);
}

TEST_CASE("sqs provider: the batch window runs on the client's clock")
{
    // An hour-long window, on simulated time: the acknowledgement waits for it while another
    // message is still in hand (nothing sends the batch early), and takes no real time.
    courier_test::log_capture logs;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    courier::clock::duration waited{};
    std::vector<courier::clock::time_point> sent_at;
    courier_test::run_test_simulated(*clock, [&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request& r, std::size_t) -> reply {
            if (aws_action(r) == "ReceiveMessage")
                return {200, two_messages};
            sent_at.push_back(clock->now());
            return {200, R"({"Successful":[{"Id":"0"}]})"};
        });
        auto options = client_options(server.url(), logs);
        options.aws.clock = clock;
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto queue = queue_options();
        queue.batch_window = 1h;
        auto provider = courier::make_sqs_provider(client, queue);
        const auto messages = co_await provider->receive(10);
        REQUIRE(messages.size() == 2);
        const auto start = clock->now();
        co_await provider->ack(messages[0]);
        waited = clock->now() - start;
        co_await provider->ack(messages[1]); // the last one in hand: sent at once
        CHECK(clock->now() - start == waited);
    });
    CHECK(waited == 1h);
    CHECK(sent_at.size() == 2);
}

TEST_CASE("sqs bad answers: an endpoint that accepts and never answers is a warning within one request timeout, "
          "and every attempt is counted by action and outcome")
{
    // An operator must not wait through every retry (a minute or two) to learn that the
    // endpoint is wrong: the first failed attempt of a call is logged at warning level.
    auto& series = courier::detail::metrics::request_registry::instance().series("SQS", "ReceiveMessage");
    const auto failed_before = series.failed.load();
    const auto succeeded_before = series.succeeded.load();
    const auto observed_before = series.duration.count();
    courier_test::log_capture logs;
    courier_test::run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        sqs_server server(io, [&](const seen_request&, std::size_t) -> reply { return {200, "{}"}; });
        auto options = client_options(server.url(), logs);
        options.aws.max_attempts = 3; // the retry may be sent, and held, before the release below
        options.aws.retry_base_delay = 1ms;
        options.aws.request_timeout = 1s; // a real socket deadline: only how soon the warning comes
        auto client = std::make_shared<courier::sqs_client>(io.get_executor(), options);
        auto provider = courier::make_sqs_provider(client, queue_options());
        co_await provider->open(10);
        server.hold(); // accepts, reads, never answers
        auto release_later = [&]() -> asio::awaitable<void> {
            while (!logs.contains("WARN ReceiveMessage attempt 1 failed"))
                co_await courier_test::sleep(10ms);
            server.release(); // answers the retry (or the held one, once sent)
        };
        asio::co_spawn(io, release_later(), asio::detached);
        const auto messages = co_await provider->receive(10);
        CHECK(messages.empty());
    });
    CHECK(logs.contains("WARN ReceiveMessage attempt 1 failed"));
    CHECK(logs.contains("timeout"));
    CHECK(series.failed.load() - failed_before >= 1);
    CHECK(series.succeeded.load() - succeeded_before >= 1);
    CHECK(series.duration.count() - observed_before ==
          (series.failed.load() - failed_before) + (series.succeeded.load() - succeeded_before));

    courier::detail::metrics::exposition out;
    courier::detail::metrics::request_registry::instance().write(out);
    CHECK(contains(out.text(),
                   R"(courier_provider_requests_total{service="SQS",action="ReceiveMessage",outcome="failure"} )"));
    CHECK(contains(out.text(),
                   R"(courier_provider_request_duration_seconds_count{service="SQS",action="ReceiveMessage"} )"));
}
