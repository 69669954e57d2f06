// A wait for "something changed or the deadline passed" that a stopping route can end.
#ifndef COURIER_SRC_BROKER_WAIT_HPP
#define COURIER_SRC_BROKER_WAIT_HPP

#include "courier/clock.hpp"
#include "detail/async_event.hpp"

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::broker {

/// Returns after `event` is notified or `deadline` passed on `clock`. Any cancellation of
/// the caller, total included, ends it with `operation_aborted`: each side of the race runs
/// as a coroutine of its own, whose cancellation state would otherwise let only terminal
/// cancellation in, and a route stopping gracefully asks its receive with total
/// cancellation.
boost::asio::awaitable<void> wait_until(detail::async_event& event, courier::clock& clock,
                                        courier::clock::time_point deadline);

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
