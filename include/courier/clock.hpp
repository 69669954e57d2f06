// The source of time for everything in courier that waits: visibility timeouts,
// retry backoff, heartbeats, long polls and shutdown deadlines.
//
// It is an interface so that tests (ours and our users') can run hours of simulated
// time in milliseconds with `courier::testing::simulated_clock`, deterministically.
// The HTTP client's connect and request deadlines stay on the sockets' own timers with the
// real clock, and run on the clock when given another one (a simulated clock over an
// in-memory transport, in tests).
#ifndef COURIER_CLOCK_HPP
#define COURIER_CLOCK_HPP

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

namespace courier {

/// A monotonic clock and an awaitable sleep on it.
///
/// Thread safety: implementations are safe to use from any thread.
class clock
{
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    virtual ~clock() = default;

    /// The current time.
    virtual time_point now() const = 0;

    /// The current calendar time: what is compared with times other machines send (the
    /// expiration of temporary AWS credentials, the Date of a server's answer) and what
    /// signatures carry. Moves with `now()`. Default: `std::chrono::system_clock::now()`.
    virtual std::chrono::system_clock::time_point system_now() const;

    /// Suspends the calling coroutine until `deadline`, on the coroutine's executor.
    ///
    /// Cancellation: any cancellation type ends the wait early by throwing
    /// `boost::system::system_error` with `boost::asio::error::operation_aborted`.
    virtual boost::asio::awaitable<void> sleep_until(time_point deadline) = 0;

    /// Suspends the calling coroutine for `d` (see `sleep_until`).
    boost::asio::awaitable<void> sleep_for(duration d);
};

/// The real clock (std::chrono::steady_clock, waits on asio::steady_timer). One shared
/// instance; it holds no state.
std::shared_ptr<clock> steady_clock();

} // namespace courier

#endif
