// Sending from other threads: senders on their own io_contexts and threads, and from a
// thread that runs no coroutine, into a queue running on a multi-threaded io_context.
// Real time: each test bounds itself at 60 s, far above the ~0.1 s these take, so that a
// 20x slowdown (sanitizers, a loaded machine) passes and only a hang fails.
#include "collector_support.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

using namespace courier_test;

TEST_CASE("collector threads: senders on other threads and executors, with back-pressure")
{
    constexpr int senders = 4;
    constexpr int per_sender = 500;
    asio::io_context queue_io; // run by two threads: the queue adds a strand
    auto work = asio::make_work_guard(queue_io);
    std::vector<std::thread> queue_threads;
    for (int i = 0; i < 2; ++i)
        queue_threads.emplace_back([&] { queue_io.run(); });

    // Touched only on the queue's strand: TSan proves it.
    long sum = 0;
    std::thread::id last_thread;
    std::vector<ec::collector<int>> collectors{
        ec::collector<int>("sum", [&](const ec::payload<int>& p) -> asio::awaitable<ec::result> {
            sum += p.value;
            last_thread = std::this_thread::get_id();
            co_return ec::ok(p.value * 2);
        })};
    ec::collector_queue<int> queue(
        queue_io.get_executor(), collectors,
        {.max_consumers = 4, .capacity = 8, .log = courier::logger(courier::log_level::off)});
    auto started = asio::co_spawn(queue.get_executor(), queue.start(), asio::use_future);
    REQUIRE(started.wait_for(60s) == std::future_status::ready);
    started.get();

    std::atomic<int> doubled_ok{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            asio::io_context own;
            asio::co_spawn(
                own,
                [&, s]() -> asio::awaitable<void> {
                    auto publisher = queue.get_publisher();
                    std::vector<ec::collector_event> events;
                    for (int i = 0; i < per_sender; ++i)
                    {
                        ec::payload<int> p{s * per_sender + i};
                        events.push_back(co_await publisher.send(std::move(p)));
                    }
                    for (int i = 0; i < per_sender; ++i)
                    {
                        const auto results = co_await events[i].wait();
                        doubled_ok += results.first().value<int>() == 2 * (s * per_sender + i);
                    }
                },
                asio::detached);
            own.run_for(60s);
        });
    // And one thread without any coroutine of its own.
    std::optional<ec::result_list> from_plain_thread;
    threads.emplace_back([&] {
        ec::payload<int> p{-1};
        auto event =
            asio::co_spawn(queue.get_executor(), queue.get_publisher().send(std::move(p)), asio::use_future).get();
        from_plain_thread = asio::co_spawn(queue.get_executor(), event.wait(), asio::use_future).get();
    });
    for (auto& t : threads)
        t.join();

    auto stopped = asio::co_spawn(queue.get_executor(), queue.stop(), asio::use_future);
    REQUIRE(stopped.wait_for(60s) == std::future_status::ready);
    stopped.get();
    work.reset();
    for (auto& t : queue_threads)
        t.join();

    constexpr long n = senders * per_sender;
    CHECK(doubled_ok == n);
    CHECK(sum == n * (n - 1) / 2 - 1);
    REQUIRE(from_plain_thread.has_value());
    CHECK(from_plain_thread->first().value<int>() == -2);
    CHECK(queue.stats().completed == n + 1);
    CHECK(queue.stats().sent == n + 1);
}

TEST_CASE("collector threads: a queue on a one-thread io_context takes sends from another thread")
{
    asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO); // no strand: the io_context is the queue's executor
    int processed = 0;
    std::vector<ec::collector<int>> collectors{
        ec::collector<int>("count", [&](const ec::payload<int>&) -> asio::awaitable<ec::result> {
            ++processed;
            co_return ec::ok();
        })};
    ec::collector_queue<int> queue(io.get_executor(), collectors, {.log = courier::logger(courier::log_level::off)});
    std::atomic<bool> done{false};
    asio::co_spawn(io, queue.start(), asio::detached);
    std::thread sender([&] {
        asio::io_context own;
        asio::co_spawn(
            own,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 200; ++i)
                {
                    ec::payload<int> p{i};
                    co_await (co_await queue.get_publisher().send(std::move(p))).wait();
                }
                done = true;
            },
            asio::detached);
        own.run_for(60s);
    });
    auto work = asio::make_work_guard(io);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done && std::chrono::steady_clock::now() < deadline)
        io.run_for(10ms);
    sender.join();
    work.reset();
    asio::co_spawn(io, queue.stop(), asio::detached);
    io.run_for(60s);
    CHECK(done);
    CHECK(processed == 200);
}
