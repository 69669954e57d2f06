// The real clock and the simulated clock for tests.
#include <courier/clock.hpp>
#include <courier/testing/simulated_clock.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;

namespace courier {

asio::awaitable<void> clock::sleep_for(duration d)
{
    return sleep_until(now() + d);
}

std::chrono::system_clock::time_point clock::system_now() const
{
    return std::chrono::system_clock::now();
}

namespace {

class real_steady_clock final : public clock
{
public:
    time_point now() const override { return std::chrono::steady_clock::now(); }

    asio::awaitable<void> sleep_until(time_point deadline) override
    {
        asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
        co_await timer.async_wait(asio::use_awaitable);
    }
};

} // namespace

std::shared_ptr<clock> steady_clock()
{
    static const auto instance = std::make_shared<real_steady_clock>();
    return instance;
}

namespace testing {

// A sleeping coroutine waits on a timer that never expires by itself; waking it means
// setting `fired` and cancelling the timer. A cancellation from outside leaves `fired`
// false, which is how the coroutine tells the two apart.
struct simulated_clock::sleeper
{
    explicit sleeper(const asio::any_io_executor& ex)
        : timer(ex, asio::steady_timer::time_point::max())
    {
    }
    asio::steady_timer timer;
    bool fired = false;
};

simulated_clock::simulated_clock()
    : start_(time_point() + std::chrono::hours(24 * 365)),
      system_start_(std::chrono::system_clock::now()),
      now_(start_)
{
}

clock::time_point simulated_clock::now() const
{
    std::lock_guard lock(mutex_);
    return now_;
}

std::chrono::system_clock::time_point simulated_clock::system_now() const
{
    std::lock_guard lock(mutex_);
    return system_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - start_);
}

asio::awaitable<void> simulated_clock::sleep_until(time_point deadline)
{
    auto s = std::make_shared<sleeper>(co_await asio::this_coro::executor);
    decltype(sleepers_)::iterator position;
    {
        std::lock_guard lock(mutex_);
        if (deadline <= now_)
            co_return;
        position = sleepers_.emplace(deadline, s);
    }
    co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    {
        std::lock_guard lock(mutex_);
        if (s->fired)
            co_return;
        sleepers_.erase(position);
    }
    throw boost::system::system_error(asio::error::operation_aborted);
}

void simulated_clock::wake_until(time_point t, std::unique_lock<std::mutex>&)
{
    if (t > now_)
        now_ = t;
    while (!sleepers_.empty() && sleepers_.begin()->first <= now_)
    {
        auto s = sleepers_.begin()->second;
        sleepers_.erase(sleepers_.begin());
        s->fired = true;
        // Cancel on the sleeper's own executor: the timer is not thread-safe, and the
        // coroutine may not have reached its wait yet when this runs elsewhere.
        asio::post(s->timer.get_executor(), [s] { s->timer.cancel(); });
    }
}

void simulated_clock::advance(duration d)
{
    std::unique_lock lock(mutex_);
    wake_until(now_ + d, lock);
}

bool simulated_clock::run(asio::io_context& io, duration limit)
{
    const time_point end = now() + limit;
    for (;;)
    {
        io.restart();
        if (io.poll() > 0)
            continue;
        std::unique_lock lock(mutex_);
        if (sleepers_.empty())
            return true;
        const time_point next = sleepers_.begin()->first;
        if (next > end)
        {
            now_ = end;
            return false;
        }
        wake_until(next, lock);
    }
}

std::size_t simulated_clock::sleepers() const
{
    std::lock_guard lock(mutex_);
    return sleepers_.size();
}

} // namespace testing
} // namespace courier
