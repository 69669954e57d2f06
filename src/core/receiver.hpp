// The receive loop of a route: asks the provider for messages whenever the route has room,
// and hands each one over; backs off after a failed receive.
#ifndef COURIER_SRC_CORE_RECEIVER_HPP
#define COURIER_SRC_CORE_RECEIVER_HPP

#include "core/room.hpp"
#include "core/route_log.hpp"
#include "metrics/route_metrics.hpp"

#include <courier/clock.hpp>
#include <courier/logger.hpp>
#include <courier/provider.hpp>
#include <courier/route_options.hpp>
#include <courier/route_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

namespace courier::detail {

/// Where received messages go, and who hears of a failure retrying cannot heal.
class message_sink
{
public:
    /// `msg` has taken one unit of room; `received_at` is when its receive began.
    virtual void received(message&& msg, clock::time_point received_at) = 0;
    /// Receiving failed with `error`, and `is_permanent(error)`: the loop has ended.
    virtual void failed_for_good(std::exception_ptr error) = 0;

protected:
    ~message_sink() = default;
};

/// What the receive loop works with; all of it outlives the loop.
struct receiver_context
{
    provider& source;
    room& space;
    message_sink& sink;
    clock& time;
    route_log log;
    route_counters& counters;
    metrics::route_metrics& metrics;
    const route_options& options;
    /// The executor below the route's strand, to yield through (see room::take).
    boost::asio::any_io_executor yield_to;
    /// End the loop on a permanent failure (`is_permanent`), telling the sink; otherwise
    /// retry it like any other.
    bool stop_on_permanent_error = true;
};

/// Receives until `stopping` is set, or until cancelled: total cancellation reaches the
/// provider's receive (see provider::receive), terminal cancellation abandons it.
boost::asio::awaitable<void> receive_loop(receiver_context ctx, const bool& stopping);

} // namespace courier::detail

#endif
