// The worker pool on its own: workers start on demand up to the limit, handlers that do not
// suspend run a batch on one worker, handlers that do get a worker each, and closing ends
// every worker.
#include "../test_support.hpp"
#include "core/worker_pool.hpp"

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
