// A wait for "something changed or the deadline passed" that a stopping route can end.
#ifndef COURIER_SRC_BROKER_WAIT_HPP
#define COURIER_SRC_BROKER_WAIT_HPP

#include "courier/clock.hpp"
#include "detail/async_event.hpp"

#include <boost/asio/awaitable.hpp>

namespace courier::broker {

/// Returns after `event` is notified or `deadline` passed on `clock`. Any cancellation of
/// the caller, total included, ends it with `operation_aborted`: each side of the race runs
/// as a coroutine of its own, whose cancellation state would otherwise let only terminal
/// cancellation in, and a route stopping gracefully asks its receive with total
/// cancellation.
boost::asio::awaitable<void> wait_until(detail::async_event& event, courier::clock& clock,
                                        courier::clock::time_point deadline);

} // namespace courier::broker

#endif
