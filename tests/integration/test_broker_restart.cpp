// A broker restart in the middle of consuming, on both transports at once: each connection
// coroutine reconnects by itself with backoff, declares and subscribes again, refuses to
// acknowledge deliveries of the dead connection (errc::stale_receipt, nothing sent), and
// every message not acknowledged before the restart comes back. Durable queues and
// persistent messages survive the restart.
//
// Declarations are built in named variables before co_await: GCC 12 miscompiles a braced
// aggregate holding strings in a co_await expression (see README).
#include "amqp/connection.hpp"
#include "broker_fixture.hpp"
#include "stomp/connection.hpp"

#include <set>
#include <thread>

using namespace courier_test;
namespace amqp = courier::amqp;
namespace stomp = courier::stomp;

TEST_CASE_FIXTURE(broker_fixture, "broker restart: both connections come back, resubscribe, and lose nothing")
{
    const std::string amqp_queue = unique("restart-amqp");
    const std::string stomp_queue = "/queue/" + unique("restart-stomp");
    auto ao = amqp::parse_url(broker.amqp_url());
    ao.log = logs.make(courier::log_level::debug);
    ao.publish_timeout = std::chrono::seconds(300);
    ao.reconnect_delay_max = std::chrono::seconds(2);
    auto so = stomp::parse_url(broker.stomp_url());
    so.log = ao.log;
    so.publish_timeout = std::chrono::seconds(300);
    so.reconnect_delay_max = std::chrono::seconds(2);
    auto a = std::make_shared<amqp::connection>(io.get_executor(), ao);
    auto s = std::make_shared<stomp::connection>(io.get_executor(), so);
    a->start();
    s->start();
    constexpr int total = 10;

    std::set<std::string> amqp_acked, stomp_acked;
    std::vector<amqp::delivery> amqp_held;
    std::vector<stomp::delivery> stomp_held;
    std::shared_ptr<amqp::subscription> asub;
    std::shared_ptr<stomp::subscription> ssub;
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args declared{.queue = amqp_queue, .durable = true};
        co_await a->declare_queue(std::move(declared));
        for (int i = 0; i < total; ++i)
        {
            amqp::publish_args p;
            p.routing_key = amqp_queue;
            p.props.delivery_mode = 2;
            p.props.message_id = "a" + std::to_string(i);
            p.body = "x";
            co_await a->publish(std::move(p));
            // Named first: GCC 12 miscompiles a braced list in a co_await expression.
            stomp::header_list headers{{"persistent", "true"}, {"amqp-message-id", "s" + std::to_string(i)}};
            co_await s->send(stomp_queue, "y", std::move(headers));
        }
        asub = a->subscribe({.queue = amqp_queue, .prefetch = 4});
        ssub = s->subscribe({.destination = stomp_queue, .prefetch = 4});
        // Take 4 of each, acknowledge 2, hold 2 unacknowledged across the restart.
        while (amqp_held.size() < 4)
            for (auto& d : co_await asub->receive(4, std::chrono::seconds(10)))
                amqp_held.push_back(std::move(d));
        while (stomp_held.size() < 4)
            for (auto& d : co_await ssub->receive(4, std::chrono::seconds(10)))
                stomp_held.push_back(std::move(d));
        for (int i = 0; i < 2; ++i)
        {
            co_await asub->ack(amqp_held[i]);
            amqp_acked.insert(*amqp_held[i].props.message_id);
            co_await ssub->ack(stomp_held[i].id());
            stomp_acked.insert(std::string(stomp_held[i].f.header("amqp-message-id")));
        }
    });
    REQUIRE(a->generation() == 1);
    REQUIRE(s->generation() == 1);

    // Restart while both connections keep running on another thread. The restart itself stays
    // on this thread: the broker's PR_SET_PDEATHSIG is tied to the thread that started it.
    {
        auto work = asio::make_work_guard(io);
        io.restart();
        std::thread runner([&] { io.run(); });
        broker.restart();
        work.reset();
        io.stop();
        runner.join();
    }
    run(
        [&]() -> asio::awaitable<void> {
            while (a->generation() < 2 || s->generation() < 2 || !a->connected() || !s->connected())
                co_await pause(std::chrono::milliseconds(50));
            // Deliveries of the dead connections are refused, not sent.
            for (int i = 2; i < 4; ++i)
            {
                CHECK_THROWS_WITH_AS(co_await asub->ack(amqp_held[i]), doctest::Contains("gone"), courier::error);
                CHECK_THROWS_WITH_AS(co_await ssub->ack(stomp_held[i].id()), doctest::Contains("gone"), courier::error);
            }
            // Everything not acknowledged comes back on the new connections.
            std::set<std::string> amqp_seen, stomp_seen;
            while (amqp_seen.size() < total - 2 || stomp_seen.size() < total - 2)
            {
                for (auto& d : co_await asub->receive(10, std::chrono::milliseconds(200)))
                {
                    CHECK(amqp_acked.count(*d.props.message_id) == 0);
                    amqp_seen.insert(*d.props.message_id);
                    co_await asub->ack(d);
                }
                for (auto& d : co_await ssub->receive(10, std::chrono::milliseconds(200)))
                {
                    CHECK(stomp_acked.count(std::string(d.f.header("amqp-message-id"))) == 0);
                    stomp_seen.insert(std::string(d.f.header("amqp-message-id")));
                    co_await ssub->ack(d.id());
                }
            }
            CHECK(amqp_seen.size() == total - 2);
            CHECK(stomp_seen.size() == total - 2);
            co_await a->close();
            co_await s->close();
        },
        std::chrono::seconds(600)); // a restart is 7-17 s; the margin is the 20x slowdown rule
    CHECK(logs.contains("connection lost"));
    CHECK(logs.contains("reconnecting in"));
}
