// The heartbeat: keeps the messages of long-running handlers hidden by extending their
// visibility every third of the provider's visibility timeout, without ever asking for more
// than the provider allows in total since receipt.
#ifndef COURIER_SRC_CORE_HEARTBEAT_HPP
#define COURIER_SRC_CORE_HEARTBEAT_HPP

#include "core/in_flight.hpp"
#include "core/route_log.hpp"
#include "metrics/route_metrics.hpp"

#include <courier/clock.hpp>
#include <courier/logger.hpp>
#include <courier/provider.hpp>
#include <courier/route_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace courier::detail {

/// The provider's visibility rules.
struct visibility_limits
{
    std::chrono::milliseconds timeout;   ///< how long a delivery stays hidden
    std::chrono::milliseconds max_total; ///< the longest since receipt; zero for no limit
};

/// The extension to ask for at `now` for a message received at `received_at`: the visibility
/// timeout, cut so that it ends no later than the limit. Nothing when no time is left.
std::optional<std::chrono::milliseconds> next_extension(const visibility_limits& limits, clock::time_point received_at,
                                                        clock::time_point now) noexcept;

/// What the heartbeat works with; all of it outlives the loop.
struct heartbeat_context
{
    visibility_control& provider;
    in_flight_table& messages;
    clock& time;
    route_log log;
    route_counters& counters;
    metrics::route_metrics& metrics;
    boost::asio::any_io_executor strand;
    /// Kept alive by every extension in progress: the entries and counters belong to it.
    std::shared_ptr<void> owner;
};

/// Runs until cancelled: every third of the visibility timeout, extends every message in
/// flight that was received at least that long ago. A message whose extension reached the
/// limit, or that the provider refuses to extend (stale receipt, limit reached), is no longer
/// extended, and a warning says once that it may be delivered to another consumer while its
/// handler still runs.
boost::asio::awaitable<void> heartbeat_loop(heartbeat_context ctx);

} // namespace courier::detail

#endif
