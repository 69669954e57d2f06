// Consumers follow the load: added while payloads wait and all are busy, retired after
// idling, down to the minimum. All on simulated time.
#include "collector_support.hpp"

using namespace courier_test;

TEST_CASE_FIXTURE(collector_fixture, "collector scaling: up to max under a backlog, down to min after the idle timeout")
{
    std::vector<ec::collector<std::string>> collectors{echo("slow", {}, 10s)};
    ec::collector_queue<std::string> queue(
        io.get_executor(), collectors, options({.min_consumers = 1, .max_consumers = 4, .consumer_idle_timeout = 60s}));
    const auto t0 = clock->now();
    std::vector<ec::collector_queue_stats> at;
    const auto sample_at = [&](courier::clock::duration t) -> asio::awaitable<void> {
        co_await clock->sleep_until(t0 + t);
        at.push_back(queue.stats());
    };
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        CHECK(queue.stats().consumers == 1);
        auto publisher = queue.get_publisher();
        std::vector<ec::collector_event> events;
        for (int i = 0; i < 10; ++i)
            events.push_back(co_await publisher.send(broadcast(std::to_string(i))));
        co_await sample_at(1s);  // 4 busy, 6 waiting
        co_await sample_at(25s); // third round: 2 payloads, 2 consumers idle since t = 20 s
        for (auto& e : events)
            CHECK((co_await e.wait()).all_ok());
        co_await sample_at(79s); // all idle; the first two retire at 20 + 60 s
        co_await sample_at(81s);
        co_await sample_at(89s); // the other two went idle at 30 s: one retires at 90 s
        co_await sample_at(91s);
        co_await sample_at(500s); // never below the minimum
        co_await queue.stop();
    });
    REQUIRE(at.size() == 7);
    CHECK(at[0].consumers == 4);
    CHECK(at[0].busy_consumers == 4);
    CHECK(at[0].queued == 6);
    CHECK(at[1].busy_consumers == 2);
    CHECK(at[1].consumers == 4);
    CHECK(at[2].consumers == 4);
    CHECK(at[3].consumers == 2);
    CHECK(at[4].consumers == 2);
    CHECK(at[5].consumers == 1);
    CHECK(at[6].consumers == 1);
    CHECK(at[6].consumers_peak == 4);
    CHECK(logs.count("consumer added: 4 running, at most 4") == 1);
    CHECK(logs.count("consumer stopped after 60000 ms idle: 1 running") == 1);
    CHECK(queue.stats().consumers == 0); // stopped
}

TEST_CASE_FIXTURE(collector_fixture, "collector scaling: no consumer is added while one is idle")
{
    // Payloads sent one at a time, each awaited: one consumer does it all.
    std::vector<ec::collector<std::string>> collectors{echo("slow", {}, 1s)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors,
                                           options({.min_consumers = 1, .max_consumers = 8}));
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        for (int i = 0; i < 5; ++i)
            co_await send_and_wait(queue.get_publisher(), broadcast("x"));
        co_await queue.stop();
    });
    CHECK(queue.stats().consumers_peak == 1);
    CHECK(queue.stats().completed == 5);
}

TEST_CASE_FIXTURE(collector_fixture,
                  "collector scaling: a consumer woken for a payload counts, so a burst starts one each")
{
    // Three payloads sent at once to a queue with three idle minimum consumers: no fourth.
    std::vector<ec::collector<std::string>> collectors{echo("slow", {}, 1s)};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors,
                                           options({.min_consumers = 3, .max_consumers = 8}));
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        co_await clock->sleep_for(1s); // let the three go idle
        auto publisher = queue.get_publisher();
        const auto sent = clock->now();
        std::vector<ec::collector_event> events;
        for (int i = 0; i < 3; ++i)
            events.push_back(co_await publisher.send(broadcast("x")));
        for (auto& e : events)
            co_await e.wait();
        CHECK(clock->now() - sent == 1s); // in parallel
        co_await queue.stop();
    });
    CHECK(queue.stats().consumers_peak == 3);
}
