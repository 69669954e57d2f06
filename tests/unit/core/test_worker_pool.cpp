// The worker pool on its own: workers start on demand up to the limit, handlers that do not
// suspend run a batch on one worker, handlers that do get a worker each, and closing ends
// every worker.
#include "../test_support.hpp"
#include "core/worker_pool.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

using namespace courier_test;
using pool_type = courier::detail::worker_pool<int>;

namespace {

struct pool_fixture : simulated_fixture
{
    std::vector<int> done;
    int running = 0;
    int peak = 0;
    std::set<const pool_type::worker*> workers_seen;
    courier::clock::duration work_time{};
    std::size_t exited = 0;

    pool_type pool{io.get_executor(), 4, [this](pool_type::worker& w) { return body(w); },
                   [this](std::exception_ptr e) {
                       CHECK_FALSE(e);
                       ++exited;
                   }};

    asio::awaitable<void> body(pool_type::worker& w)
    {
        for (;;)
        {
            auto item = pool.take();
            if (!item)
            {
                if (pool.closing())
                    co_return;
                co_await pool.wait(w);
                continue;
            }
            workers_seen.insert(&w);
            peak = std::max(peak, ++running);
            if (work_time > courier::clock::duration::zero())
                co_await clock->sleep_for(work_time);
            --running;
            done.push_back(*item);
        }
    }
};

} // namespace

TEST_CASE_FIXTURE(pool_fixture, "worker pool: handlers that do not suspend run on one worker, in order")
{
    for (int i = 0; i < 10; ++i)
        pool.push(i);
    clock->run(io);
    CHECK(done == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(workers_seen.size() == 1);
    // One wake-up was outstanding while the first worker ran: a second one started, found
    // nothing left, and waits.
    CHECK(pool.live() == 2);
    pool.close();
    clock->run(io);
    CHECK(pool.live() == 0);
    CHECK(exited == 2);
}

TEST_CASE_FIXTURE(pool_fixture, "worker pool: handlers that suspend get a worker each, up to the limit")
{
    work_time = 1s;
    for (int i = 0; i < 10; ++i)
        pool.push(i);
    clock->run(io);
    CHECK(done.size() == 10);
    CHECK(peak == 4);
    CHECK(pool.live() == 4);
    // Later messages reuse the idle workers.
    for (int i = 10; i < 14; ++i)
        pool.push(i);
    clock->run(io);
    CHECK(done.size() == 14);
    CHECK(workers_seen.size() == 4);
    pool.close();
    clock->run(io);
    CHECK(pool.live() == 0);
    CHECK(exited == 4);
}

TEST_CASE_FIXTURE(pool_fixture, "worker pool: close lets workers finish what is ready first")
{
    work_time = 1s;
    for (int i = 0; i < 6; ++i)
        pool.push(i);
    pool.close();
    clock->run(io);
    CHECK(done.size() == 6);
    CHECK(pool.live() == 0);
}

namespace {

// A pool whose workers take up to 4 items at once; a worker holding fewer waits for the rest
// up to a window of 1 s (as the batch worker does).
struct batch_pool_fixture : simulated_fixture
{
    std::vector<std::vector<int>> batches;
    courier::clock::duration work_time = 1s;
    courier::clock::duration window{};
    bool stopped = false;
    std::size_t exited = 0;

    pool_type pool{io.get_executor(), 8, [this](pool_type::worker& w) { return body(w); },
                   [this](std::exception_ptr e) {
                       CHECK_FALSE(e);
                       ++exited;
                   },
                   4};

    asio::awaitable<void> body(pool_type::worker& w)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        std::vector<int> batch;
        for (;;)
        {
            batch.clear();
            pool.take_up_to(4, batch);
            if (batch.empty())
            {
                if (pool.closing())
                    co_return;
                co_await pool.wait(w);
                continue;
            }
            const auto until = clock->now() + window;
            while (batch.size() < 4 && !stopped && clock->now() < until)
                co_await (clock->sleep_until(until) || pool.wait_for_more(w, batch, 4));
            batches.push_back(batch);
            co_await clock->sleep_for(work_time);
        }
    }
};

} // namespace
TEST_CASE_FIXTURE(batch_pool_fixture, "worker pool: batch workers take up to their share, one woken per share")
{
    for (int i = 0; i < 10; ++i)
        pool.push(i);
    clock->run(io);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0] == std::vector<int>{0, 1, 2, 3});
    CHECK(batches[1] == std::vector<int>{4, 5, 6, 7});
    CHECK(batches[2] == std::vector<int>{8, 9});
    CHECK(pool.live() == 3); // not one per message
    pool.close();
    clock->run(io);
    CHECK(exited == 3);
}

TEST_CASE_FIXTURE(batch_pool_fixture,
                  "worker pool: a batch short of its size waits for more, and they wake no one else")
{
    window = 1s;
    pool.push(0);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await clock->sleep_for(300ms);
            pool.push(1);
            pool.push(2);
            co_await clock->sleep_for(300ms);
            pool.push(3); // fills the batch before the window ends
            pool.push(4); // the next batch: alone until its window ends
        },
        asio::detached);
    const auto start = clock->now();
    clock->run(io);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0] == std::vector<int>{0, 1, 2, 3});
    CHECK(batches[1] == std::vector<int>{4});
    CHECK(pool.live() == 2);
    CHECK(clock->now() - start == 600ms + 1s + 1s); // batch 2 waited its whole window, then worked
    pool.close();
    clock->run(io);
}

TEST_CASE_FIXTURE(batch_pool_fixture, "worker pool: stop_collecting ends the wait for more at once")
{
    window = 1h;
    pool.push(0);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await clock->sleep_for(1s);
            stopped = true; // as the route's stop does before it
            pool.stop_collecting();
        },
        asio::detached);
    const auto start = clock->now();
    clock->run(io);
    REQUIRE(batches.size() == 1);
    CHECK(batches[0] == std::vector<int>{0});
    CHECK(clock->now() - start == 2s);
    pool.close();
    clock->run(io);
}
