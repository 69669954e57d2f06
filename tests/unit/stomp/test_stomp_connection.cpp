// The STOMP connection coroutine on simulated time, over an in-memory stream the test plays
// the broker on: heart-beats sent when idle, a silent broker detected after twice its
// period, reconnection after a backoff on courier::clock, resubscription on the new
// connection, and an ACK for a delivery of the dead connection refused without being sent.
#include "detail/async_event.hpp"
#include "stomp/connection.hpp"
#include "test_support.hpp"

using namespace courier_test;
using namespace std::string_literals;
namespace stomp = courier::stomp;

namespace {

// One connection's bytes, both ways.
struct pipe_state
{
    std::string to_client, from_client;
    bool closed = false;
    courier::detail::async_event readable;
};

class memory_stream final : public courier::broker::byte_stream
{
public:
    explicit memory_stream(std::shared_ptr<pipe_state> p)
        : pipe_(std::move(p))
    {
    }
    asio::awaitable<std::size_t> read_some(char* buffer, std::size_t size) override
    {
        while (pipe_->to_client.empty() && !pipe_->closed)
        {
            co_await pipe_->readable.wait();
            co_await courier::broker::throw_if_cancelled();
        }
        if (pipe_->to_client.empty())
            throw courier::error(courier::errc::transport_failed, "memory stream closed");
        const auto n = std::min(size, pipe_->to_client.size());
        pipe_->to_client.copy(buffer, n);
        pipe_->to_client.erase(0, n);
        co_return n;
    }
    asio::awaitable<void> write(std::string_view bytes) override
    {
        if (pipe_->closed)
            throw courier::error(courier::errc::transport_failed, "memory stream closed");
        pipe_->from_client.append(bytes);
        co_return;
    }
    void close() noexcept override
    {
        pipe_->closed = true;
        pipe_->readable.notify();
    }

private:
    std::shared_ptr<pipe_state> pipe_;
};

struct connection_fixture : simulated_fixture
{
    std::vector<std::shared_ptr<pipe_state>> pipes;

    std::shared_ptr<stomp::connection> make()
    {
        stomp::connection_options o;
        o.heartbeat = std::chrono::milliseconds(1000);
        o.clock = clock;
        o.log = logs.make(courier::log_level::debug);
        auto connect =
            [this](asio::any_io_executor, std::string, std::uint16_t,
                   std::chrono::milliseconds) -> asio::awaitable<std::unique_ptr<courier::broker::byte_stream>> {
            pipes.push_back(std::make_shared<pipe_state>());
            co_return std::make_unique<memory_stream>(pipes.back());
        };
        return std::make_shared<stomp::connection>(io.get_executor(), o, connect);
    }

    void server_sends(std::size_t connection, std::string bytes)
    {
        pipes.at(connection)->to_client += bytes;
        pipes.at(connection)->readable.notify();
    }

    asio::awaitable<void> until(std::function<bool()> condition)
    {
        while (!condition())
            co_await clock->sleep_for(std::chrono::milliseconds(1));
    }
};

} // namespace

TEST_CASE_FIXTURE(connection_fixture,
                  "stomp connection: heart-beats, a silent broker, reconnection, resubscription, stale acks")
{
    auto c = make();
    run_simulated(io, *clock, [&]() -> asio::awaitable<void> {
        c->start();
        co_await until([&] { return !pipes.empty() && contains(pipes[0]->from_client, "CONNECT\n"); });
        CHECK(contains(pipes[0]->from_client, "heart-beat:1000,1000\n"));
        server_sends(0, "CONNECTED\nversion:1.2\nheart-beat:1000,1000\n\n\0"s);
        co_await until([&] { return c->connected(); });
        CHECK(c->generation() == 1);

        auto sub = c->subscribe({.destination = "/queue/q", .prefetch = 5});
        co_await until([&] { return contains(pipes[0]->from_client, "SUBSCRIBE\n"); });
        CHECK(contains(pipes[0]->from_client,
                       "id:sub-1\ndestination:/queue/q\nack:client-individual\nprefetch-count:5\n"));
        server_sends(0, "MESSAGE\nsubscription:sub-1\nmessage-id:m1\nack:a1\n\nbody\0"s);
        auto got = co_await sub->receive(10, std::chrono::seconds(1));
        REQUIRE(got.size() == 1);
        CHECK(got[0].generation == 1);

        // The broker keeps sending heart-beats for 3 s: the connection stays, and ours go out.
        const auto sent_before = pipes[0]->from_client.size();
        for (int i = 0; i < 6; ++i)
        {
            co_await clock->sleep_for(std::chrono::milliseconds(500));
            server_sends(0, "\n");
        }
        CHECK(c->generation() == 1);
        CHECK(c->connected());
        CHECK(pipes[0]->from_client.size() > sent_before); // heart-beat EOLs

        // Then silence: after twice the period the connection is given up.
        const auto silent_from = clock->now();
        co_await until([&] { return !c->connected(); });
        CHECK(clock->now() - silent_from >= std::chrono::milliseconds(2000));
        CHECK(clock->now() - silent_from <= std::chrono::milliseconds(2600));
        CHECK_MESSAGE(logs.contains("no heart-beat from"), logs.all());

        // A delivery of the dead connection is not acknowledged, and nothing is written.
        const auto stale = got[0].id();
        CHECK_THROWS_WITH_AS(co_await sub->ack(stale), doctest::Contains("gone"), courier::error);
        CHECK_FALSE(contains(pipes[0]->from_client, "ACK\n"));

        // Reconnected after a backoff on the clock, and subscribed again.
        co_await until([&] { return pipes.size() == 2 && contains(pipes[1]->from_client, "CONNECT\n"); });
        server_sends(1, "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"s);
        co_await until([&] { return c->connected() && contains(pipes[1]->from_client, "SUBSCRIBE\n"); });
        CHECK(c->generation() == 2);
        CHECK(contains(pipes[1]->from_client, "id:sub-1\ndestination:/queue/q\n"));
        CHECK(logs.contains("reconnecting in"));

        server_sends(1, "MESSAGE\nsubscription:sub-1\nmessage-id:m1\nack:a2\nredelivered:true\n\nbody\0"s);
        auto again = co_await sub->receive(10, std::chrono::seconds(1));
        REQUIRE(again.size() == 1);
        CHECK(again[0].redelivered);
        const auto fresh = again[0].id();
        co_await sub->ack(fresh);
        CHECK(contains(pipes[1]->from_client, "ACK\nid:a2\n"));

        // A graceful close: DISCONNECT with a receipt, answered.
        auto closing = [&]() -> asio::awaitable<void> { co_await c->close(); };
        asio::co_spawn(io, closing(), asio::detached);
        co_await until([&] { return contains(pipes[1]->from_client, "DISCONNECT\nreceipt:"); });
        server_sends(1, "RECEIPT\nreceipt-id:1\n\n\0"s);
        co_await until([&] { return !c->connected(); });
    });
    CHECK_THROWS_AS(
        run_simulated(io, *clock,
                      [&]() -> asio::awaitable<void> { co_await c->send("/queue/q", "late", stomp::header_list()); }),
        courier::error);
}

TEST_CASE_FIXTURE(connection_fixture, "stomp connection: RabbitMQ's ERROR for a delivery under way at UNSUBSCRIBE "
                                      "reopens the connection, resubscribes the others and sends a waiting SEND again")
{
    auto c = make();
    run_simulated(io, *clock, [&]() -> asio::awaitable<void> {
        c->start();
        co_await until([&] { return !pipes.empty() && contains(pipes[0]->from_client, "CONNECT\n"); });
        server_sends(0, "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"s);
        co_await until([&] { return c->connected(); });
        auto ending = c->subscribe({.destination = "/queue/a", .prefetch = 5});
        auto staying = c->subscribe({.destination = "/queue/b", .prefetch = 5});
        co_await until([&] { return contains(pipes[0]->from_client, "id:sub-2\n"); });

        bool sent = false;
        std::string send_error;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await c->send("/queue/out", "payload", stomp::header_list());
                sent = true;
            },
            [&](std::exception_ptr e) {
                try
                {
                    if (e)
                        std::rethrow_exception(e);
                }
                catch (const std::exception& failure)
                {
                    send_error = failure.what();
                }
            });
        co_await until([&] { return contains(pipes[0]->from_client, "SEND\n"); });
        ending->cancel();
        co_await until([&] { return contains(pipes[0]->from_client, "UNSUBSCRIBE\nid:sub-1\n"); });
        server_sends(0, "ERROR\nmessage:Subscription not found\ncontent-type:text/plain\n\n"
                        "There is no current subscription with tag 'T_sub-1'.\0"s);

        // Reconnected: sub-2 only, and the SEND again, confirmed this time.
        co_await until([&] { return pipes.size() == 2 && contains(pipes[1]->from_client, "CONNECT\n"); });
        server_sends(1, "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"s);
        co_await until([&] { return contains(pipes[1]->from_client, "SEND\n") || !send_error.empty(); });
        REQUIRE_MESSAGE(send_error.empty(), "the waiting SEND failed: " << send_error);
        CHECK(contains(pipes[1]->from_client, "id:sub-2\ndestination:/queue/b\n"));
        CHECK_FALSE(contains(pipes[1]->from_client, "id:sub-1\n"));
        CHECK_FALSE(sent);
        const auto& out = pipes[1]->from_client;
        const auto at = out.find("receipt:", out.find("SEND\n"));
        REQUIRE(at != std::string::npos);
        const auto receipt = out.substr(at + 8, out.find('\n', at) - at - 8);
        server_sends(1, "RECEIPT\nreceipt-id:" + receipt + "\n\n" + std::string(1, '\0'));
        co_await until([&] { return sent; });
        CHECK(c->generation() == 2);
        // A warning, not an error: nothing was lost or refused.
        const auto lines = logs.lines();
        CHECK_MESSAGE(std::count_if(lines.begin(), lines.end(),
                                    [](const std::string& l) {
                                        return l.starts_with(courier::to_string(courier::log_level::warning)) &&
                                               contains(l, "delivery under way to subscription 'sub-1'");
                                    }) == 1,
                      logs.all());
        (void)staying;
        c->stop();
    });
}
