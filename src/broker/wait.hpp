// Waits for "something changed or the deadline passed" that a stopping route can end.
#ifndef COURIER_SRC_BROKER_WAIT_HPP
#define COURIER_SRC_BROKER_WAIT_HPP

#include "courier/clock.hpp"
#include "detail/async_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::broker {

/// An async_event whose waits also end at a deadline on a courier::clock: a subscription's
/// "deliveries arrived". Used on one strand only, like async_event.
///
/// All waits share one sleep on the clock, the alarm, armed only when a wait must wake
/// earlier than the pending alarm would. A busy consumer waits once per burst of deliveries,
/// and each such wait then costs a node in the event's list: racing every wait against a
/// sleep of its own (`event.wait() || clock.sleep_until(deadline)`) would spawn two
/// coroutines per wait and end the losing sleep by throwing. The alarm wakes every waiter;
/// one woken before its own deadline sees that on the clock and waits again.
class deadline_event
{
public:
    explicit deadline_event(std::shared_ptr<courier::clock> clock);
    deadline_event(const deadline_event&) = delete;
    deadline_event& operator=(const deadline_event&) = delete;
    ~deadline_event();

    /// Wakes every pending wait.
    void notify() { event_.notify(); }

    /// Returns after the next `notify()`, or at `deadline` or later, or earlier: callers
    /// re-check their condition and the clock. A cancellation that the calling coroutine's
    /// cancellation state lets in ends it with `operation_aborted`.
    boost::asio::awaitable<void> wait_until(courier::clock::time_point deadline);

    /// Wakes every pending wait and ends the pending alarm, if any, so that no sleep keeps the
    /// executor busy once nobody waits any more (the subscription is cancelled, its connection
    /// stopped or closed). A later wait arms a new alarm.
    void finish() noexcept;

private:
    struct alarm;
    void disarm() noexcept;
    void arm(const boost::asio::any_io_executor& executor, courier::clock::time_point at);

    std::shared_ptr<courier::clock> clock_;
    detail::async_event event_;
    std::shared_ptr<alarm> alarm_; // the pending one, or null
    std::size_t waiting_ = 0;
};

/// Up to `max` of the deliveries a subscription (AMQP's or STOMP's) buffered, after its
/// `wait_for_deliveries(wait)`, oldest first.
template <class Subscription>
auto take_deliveries(Subscription& s, std::size_t max, std::chrono::milliseconds wait)
    -> boost::asio::awaitable<std::vector<std::remove_reference_t<decltype(s.front())>>>
{
    std::vector<std::remove_reference_t<decltype(s.front())>> out(std::min(max, co_await s.wait_for_deliveries(wait)));
    for (auto& d : out)
    {
        d = std::move(s.front());
        s.pop_front();
    }
    co_return out;
}

} // namespace courier::broker

#endif
