// A clock whose time moves only when the test says so, or when everything else in the
// io_context is idle.
//
// Typical use in a handler test:
//
//     boost::asio::io_context io;
//     auto clock = std::make_shared<courier::testing::simulated_clock>();
//     ... build a memory_provider and a dispatcher with this clock, co_spawn work ...
//     clock->run(io);   // runs until nothing is left; jumps over every wait
//
// `run` alternates between running all ready handlers and jumping time forward to the
// earliest pending sleep. Ten hours of visibility timeouts and backoff take as long as
// the handlers themselves.
#ifndef COURIER_TESTING_SIMULATED_CLOCK_HPP
#define COURIER_TESTING_SIMULATED_CLOCK_HPP

#include <courier/clock.hpp>

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace courier::testing {

/// Simulated time for tests.
///
/// Thread safety: `now`, `sleep_until` and `advance` are safe from any thread; `run`
/// is meant for single-threaded io_contexts, which is what deterministic tests want.
class simulated_clock final : public clock
{
public:
    /// Starts at an arbitrary, fixed epoch (not zero, so code that subtracts
    /// durations from `now()` does not underflow); `system_now()` starts at the real
    /// calendar time of the construction, so expirations computed from either agree.
    simulated_clock();

    time_point now() const override;
    std::chrono::system_clock::time_point system_now() const override;
    boost::asio::awaitable<void> sleep_until(time_point deadline) override;

    /// Moves time forward by `d`, waking every sleeper whose deadline has passed.
    void advance(duration d);

    /// Runs `io` until no handler is ready and no sleeper is waiting, jumping time to
    /// the next deadline whenever `io` is idle. Stops early (returns false) once the
    /// simulated time would pass `now() + limit`; returns true when everything finished.
    bool run(boost::asio::io_context& io, duration limit = std::chrono::hours(24 * 365));

    /// Number of coroutines currently sleeping on this clock.
    std::size_t sleepers() const;

private:
    struct sleeper;
    void wake_until(time_point t, std::unique_lock<std::mutex>& lock);

    mutable std::mutex mutex_;
    const time_point start_;
    const std::chrono::system_clock::time_point system_start_;
    time_point now_;
    std::multimap<time_point, std::shared_ptr<sleeper>> sleepers_;
};

} // namespace courier::testing

#endif
