// The two stops with payloads pending, capacity back-pressure, sends refused after a stop.
#include "collector_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

using namespace courier_test;

namespace {

struct stop_fixture : collector_fixture
{
    std::vector<std::string> journal;

    // One collector taking `delay` per payload, journaling what it finished, and its teardown.
    std::vector<ec::collector<std::string>> journaled(courier::clock::duration delay)
    {
        auto* j = &journal;
        auto c = clock;
        ec::lifecycle life{.teardown = [j](ec::context&) -> asio::awaitable<void> {
            j->push_back("teardown");
            co_return;
        }};
        return {
            ec::collector<std::string>("worker",
                                       [j, c, delay](const ec::payload<std::string>& p) -> asio::awaitable<ec::result> {
                                           co_await c->sleep_for(delay);
                                           j->push_back(p.value);
                                           co_return ec::ok();
                                       },
                                       {.lifecycle = std::move(life)})};
    }

    // Sends `n` payloads named 0..n-1 without waiting for them.
    static asio::awaitable<std::vector<ec::collector_event>> send_many(ec::event_publisher<std::string> publisher,
                                                                       int n)
    {
        std::vector<ec::collector_event> events;
        for (int i = 0; i < n; ++i)
            events.push_back(co_await publisher.send(broadcast(std::to_string(i))));
        co_return events;
    }
};

using v = std::vector<std::string>;

} // namespace

TEST_CASE_FIXTURE(stop_fixture, "collector stop: graceful drains what waits, then tears down, then refuses")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(1s), options({.max_consumers = 1}));
    std::vector<ec::collector_event> events;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        events = co_await send_many(queue.get_publisher(), 5);
        co_await clock->sleep_for(1500ms); // one done, one in process, three waiting
        const auto before = clock->now();
        co_await queue.stop();
        CHECK(clock->now() - before == 3500ms);
    });
    CHECK(journal == v{"0", "1", "2", "3", "4", "teardown"});
    for (auto& e : events)
        CHECK(e.get_result()->all_ok());
    const auto refused = error_from(
        [&] { run([&]() -> asio::awaitable<void> { co_await queue.get_publisher().send(broadcast("late")); }); });
    CHECK(refused.code() == ec::errc::queue_stopped);
    CHECK(contains(refused.what(), "the collector queue is stopped"));
    CHECK(logs.contains("stopping: 3 payload(s) waiting, 1 being processed"));
}

TEST_CASE_FIXTURE(stop_fixture, "collector stop: immediate cancels what waits and what runs, every event completes")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(10s), options({.max_consumers = 1}));
    std::vector<ec::collector_event> events;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        events = co_await send_many(queue.get_publisher(), 5);
        co_await clock->sleep_for(15s); // "0" done, "1" in process
        const auto before = clock->now();
        co_await queue.stop_now();
        CHECK(clock->now() == before); // no waiting for the 10 s processors
    });
    CHECK(journal == v{"0", "teardown"});
    for (auto& e : events)
        REQUIRE(e.done());
    CHECK(events[0].get_result()->all_ok());
    const auto running = *events[1].get_result();
    REQUIRE(running.size() == 1);
    CHECK(running[0].key() == "worker");
    CHECK(error_from([&] { running[0].rethrow_if_error(); }).code() == ec::errc::payload_cancelled);
    CHECK(contains(running[0].error_message(), "stopped at once while collector 'worker' processed it"));
    for (int i = 2; i < 5; ++i)
    {
        const auto waiting = *events[i].get_result();
        REQUIRE(waiting.size() == 1);
        CHECK(waiting[0].key().empty()); // no collector got it
        CHECK(contains(waiting[0].error_message(), "stopped at once before a collector got the payload"));
    }
    CHECK(queue.stats().cancelled == 3);
    CHECK(queue.stats().completed == 5);
    CHECK(queue.stats().errors == 4);
}

TEST_CASE_FIXTURE(stop_fixture, "collector stop: immediate cancels every collector of a payload under way")
{
    std::vector<ec::collector<std::string>> collectors{echo("a", {}, 10s), echo("b", {}, 10s), echo("quick")};
    ec::collector_queue<std::string> queue(io.get_executor(), collectors, options());
    std::optional<ec::collector_event> event;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        event = co_await queue.get_publisher().send(broadcast("x"));
        co_await clock->sleep_for(1s);
        co_await queue.stop_now();
    });
    REQUIRE(event->done());
    const auto results = *event->get_result();
    CHECK(keys_of(results) == std::vector<std::string>{"a", "b", "quick"});
    CHECK(contains(results[0].error_message(), "while collector 'a' processed it"));
    CHECK(contains(results[1].error_message(), "while collector 'b' processed it"));
    CHECK(results[2].value<std::string>() == "quick:x"); // it had finished
}

TEST_CASE_FIXTURE(stop_fixture, "collector stop: an immediate stop hurries a graceful one; every stopper returns")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(10s), options({.max_consumers = 1}));
    std::vector<ec::collector_event> events;
    int stopped = 0;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        events = co_await send_many(queue.get_publisher(), 3);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await queue.stop();
                ++stopped;
            },
            asio::detached);
        co_await clock->sleep_for(15s);
        CHECK(journal == v{"0"});
        co_await queue.stop_now();
        ++stopped;
    });
    CHECK(stopped == 2);
    CHECK(journal == v{"0", "teardown"});
    CHECK(events[2].get_result()->first().is_error());
}

TEST_CASE_FIXTURE(stop_fixture, "collector stop: a queue stopped before it started cancels what was sent")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(1s), options());
    std::optional<ec::collector_event> event;
    run([&]() -> asio::awaitable<void> {
        event = co_await queue.get_publisher().send(broadcast("x"));
        co_await queue.stop();
    });
    REQUIRE(event->done());
    CHECK(contains(event->get_result()->first().error_message(), "stopped before it started"));
    CHECK(journal.empty()); // no setup ran, so no teardown either
    CHECK(error_from([&] { run([&]() -> asio::awaitable<void> { co_await queue.start(); }); }).code() ==
          ec::errc::queue_stopped);
}

TEST_CASE_FIXTURE(stop_fixture, "collector capacity: send waits while the queue is full")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(1s),
                                           options({.max_consumers = 1, .capacity = 2}));
    std::vector<courier::clock::duration> returned;
    std::vector<ec::collector_queue_stats> samples;
    const auto t0 = clock->now();
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 3; ++i)
                {
                    co_await clock->sleep_for(500ms);
                    samples.push_back(queue.stats());
                }
            },
            asio::detached);
        auto publisher = queue.get_publisher();
        for (int i = 0; i < 6; ++i)
        {
            co_await publisher.send(broadcast(std::to_string(i)));
            returned.push_back(clock->now() - t0);
        }
        co_await queue.stop();
    });
    // 0 is taken by the consumer at once, 1 and 2 fill the queue; 3 waits until 0 is done
    // (t = 1 s) frees a place, 4 until 1 is done, 5 until 2 is done.
    CHECK(returned == std::vector<courier::clock::duration>{0s, 0s, 0s, 1s, 2s, 3s});
    CHECK(journal == v{"0", "1", "2", "3", "4", "5", "teardown"});
    REQUIRE(samples.size() == 3);
    CHECK(samples[0].queued == 2);
    CHECK(samples[0].blocked_senders == 1);
    CHECK(samples[2].queued == 2);
}

TEST_CASE_FIXTURE(stop_fixture,
                  "collector capacity: a waiting send can be cancelled; an immediate stop completes the others")
{
    ec::collector_queue<std::string> queue(io.get_executor(), journaled(10s),
                                           options({.max_consumers = 1, .capacity = 1}));
    asio::cancellation_signal cancel;
    std::exception_ptr cancelled_send;
    std::optional<ec::collector_event> blocked_event;
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        auto publisher = queue.get_publisher();
        co_await publisher.send(broadcast("0")); // taken by the consumer
        co_await publisher.send(broadcast("1")); // fills the queue
        asio::co_spawn(io, publisher.send(broadcast("gives up")),
                       asio::bind_cancellation_slot(
                           cancel.slot(), [&](std::exception_ptr e, ec::collector_event) { cancelled_send = e; }));
        asio::co_spawn(io, publisher.send(broadcast("waits")),
                       [&](std::exception_ptr, ec::collector_event e) { blocked_event = e; });
        co_await clock->sleep_for(1s);
        CHECK(queue.stats().blocked_senders == 2);
        cancel.emit(asio::cancellation_type::terminal);
        co_await clock->sleep_for(1s);
        CHECK(cancelled_send != nullptr);
        CHECK(queue.stats().blocked_senders == 1);
        co_await queue.stop_now();
    });
    // The sender that kept waiting got its event, completed by the stop.
    REQUIRE(blocked_event.has_value());
    CHECK(contains(blocked_event->get_result()->first().error_message(), "stopped at once"));
    CHECK(journal == v{"teardown"});
    CHECK(queue.stats().sent == 3); // "gives up" was never taken
}

TEST_CASE_FIXTURE(stop_fixture, "collector stop: destroying a running queue stops it at once in the background")
{
    std::optional<ec::collector_event> event;
    {
        ec::collector_queue<std::string> queue(io.get_executor(), journaled(10s), options());
        // Only 2 s of simulated time: the processor is still at work when the queue goes.
        run_simulated(
            io, *clock,
            [&]() -> asio::awaitable<void> {
                co_await queue.start();
                event = co_await queue.get_publisher().send(broadcast("x"));
                co_await clock->sleep_for(1s);
            },
            2s);
        CHECK_FALSE(event->done());
    }
    clock->run(io);
    REQUIRE(event->done());
    CHECK(event->get_result()->first().is_error());
    CHECK(journal == v{"teardown"});
}
