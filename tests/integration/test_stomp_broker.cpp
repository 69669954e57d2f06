// The STOMP connection against a real RabbitMQ: receipted sends, prefetch-bounded
// consumption, ACK, NACK with requeue and the redelivered flag, an ERROR frame surfaced as an
// error, and heart-beats keeping an idle connection up.
#include "broker_fixture.hpp"
#include "stomp/connection.hpp"

#include <courier/stomp/client.hpp>

#include <set>

using namespace courier_test;
namespace stomp = courier::stomp;

namespace {

struct stomp_fixture : broker_fixture
{
    stomp::connection_options options(std::chrono::milliseconds heartbeat = std::chrono::seconds(10))
    {
        auto o = stomp::parse_url(broker.stomp_url());
        o.heartbeat = heartbeat;
        o.log = logs.make(courier::log_level::debug);
        o.publish_timeout = std::chrono::seconds(60);
        return o;
    }

    std::shared_ptr<stomp::connection> connect(stomp::connection_options o)
    {
        auto c = std::make_shared<stomp::connection>(io.get_executor(), std::move(o));
        c->start();
        return c;
    }

    // Receives until `count` deliveries came or `quiet` passed without one.
    static asio::awaitable<std::vector<stomp::delivery>> drain(stomp::subscription& s, std::size_t count,
                                                               std::chrono::milliseconds quiet)
    {
        std::vector<stomp::delivery> all;
        while (all.size() < count)
        {
            auto batch = co_await s.receive(count - all.size(), quiet);
            if (batch.empty())
                break;
            for (auto& d : batch)
                all.push_back(std::move(d));
        }
        co_return all;
    }
};

} // namespace

TEST_CASE_FIXTURE(stomp_fixture, "stomp broker: receipted publish, prefetch-bounded consumption, ack")
{
    const std::string queue = "/queue/" + unique("stomp-basic");
    stomp::client client(io.get_executor(), options());
    auto publisher = client.publisher(queue);
    std::vector<std::string> ids;
    run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i)
        {
            courier::outgoing_message m;
            m.body = "message " + std::to_string(i);
            m.attributes["kind"] = {"String", "test"};
            ids.push_back(co_await publisher->publish(std::move(m)));
        }
    });
    CHECK(ids.size() == 5);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 5);

    auto conn = client.connection_ptr();
    auto sub = conn->subscribe({.destination = queue, .prefetch = 2});
    run([&]() -> asio::awaitable<void> {
        // Without acks the broker hands out no more than the prefetch.
        auto first = co_await drain(*sub, 5, std::chrono::milliseconds(1500));
        REQUIRE(first.size() == 2);
        CHECK(first[0].f.body == "message 0");
        CHECK(first[0].f.header("amqp-message-id") == ids[0]);
        CHECK(first[0].f.header("kind") == "test");
        CHECK_FALSE(first[0].redelivered);
        for (auto& d : first)
            co_await sub->ack(d.id());
        auto rest = co_await drain(*sub, 2, std::chrono::seconds(10)); // the prefetch again
        REQUIRE(rest.size() == 2);                                     // the prefetch again
        for (auto& d : rest)
            co_await sub->ack(d.id());
        auto last = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(last.size() == 1);
        CHECK(last[0].f.body == "message 4");
        co_await sub->ack(last[0].id());
        CHECK((co_await sub->receive(10, std::chrono::milliseconds(500))).empty());
        co_await client.close();
    });
    CHECK(logs.contains("connected to RabbitMQ/"));
}

TEST_CASE_FIXTURE(stomp_fixture, "stomp broker: NACK requeues, and the message comes back flagged redelivered")
{
    const std::string queue = "/queue/" + unique("stomp-nack");
    auto conn = connect(options());
    run([&]() -> asio::awaitable<void> {
        co_await conn->send(queue, "again", stomp::header_list());
        auto sub = conn->subscribe({.destination = queue, .prefetch = 1});
        auto first = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(first.size() == 1);
        CHECK_FALSE(first[0].redelivered);
        co_await sub->nack(first[0].id());
        auto second = co_await drain(*sub, 1, std::chrono::seconds(10));
        REQUIRE(second.size() == 1);
        CHECK(second[0].f.body == "again");
        CHECK(second[0].redelivered);
        co_await sub->ack(second[0].id());
        co_await conn->close();
    });
}

TEST_CASE_FIXTURE(stomp_fixture,
                  "stomp broker: an ERROR frame fails the send with the broker's message; the connection comes back")
{
    auto conn = connect(options());
    run([&]() -> asio::awaitable<void> {
        try
        {
            co_await conn->send("/nowhere/x", "x", stomp::header_list());
            FAIL("expected an error");
        }
        catch (const courier::error& e)
        {
            CHECK(e.code() == courier::errc::server_error);
            CHECK_MESSAGE(contains(e.context().server_message, "Unknown destination"), e.what());
        }
        // Reconnected by itself: the next send goes through.
        co_await conn->send("/queue/" + unique("stomp-after-error"), "fine", stomp::header_list());
        CHECK(conn->generation() >= 2);
        co_await conn->close();
    });
    CHECK(logs.contains("reconnecting in"));
}

TEST_CASE_FIXTURE(stomp_fixture, "stomp broker: negotiated heart-beats keep an idle connection up")
{
    // RabbitMQ closes a connection that sends nothing for two heart-beat periods; 1 s each way.
    auto conn = connect(options(std::chrono::milliseconds(1000)));
    run([&]() -> asio::awaitable<void> {
        while (!conn->connected())
            co_await pause(std::chrono::milliseconds(20));
        co_await pause(std::chrono::seconds(4));
        CHECK(conn->connected());
        CHECK(conn->generation() == 1);
        co_await conn->close();
    });
    CHECK(logs.contains("heart-beats out 1000 ms, in 1000 ms"));
    CHECK_FALSE(logs.contains("connection lost"));
}
