// The failure conditions of the collector queue (courier's in-process event collector).
//
// They have a category of their own ("courier.collector") so the collector stays a
// self-contained part of courier; they travel, like every courier failure, inside a
// `courier::error` that names the queue and the collector concerned.
#ifndef COURIER_COLLECTOR_ERRC_HPP
#define COURIER_COLLECTOR_ERRC_HPP

#include <system_error>

namespace courier::event_collector {

/// What went wrong in a collector queue.
enum class errc
{
    /// A collector's lifecycle setup failed, so the queue did not start (the collectors
    /// set up before it were torn down).
    setup_failed = 1,
    /// A collector's lifecycle teardown failed while the queue stopped (the other
    /// teardowns still ran).
    teardown_failed,
    /// The queue is stopping or stopped and takes no more payloads.
    queue_stopped,
    /// An immediate stop (`stop_now`, or destroying a running queue) ended the payload
    /// before a collector processed it, or while one did.
    payload_cancelled,
    /// A collector returned an Error for a payload a route handed to the queue (see
    /// `collectors_failed` in route_bridge.hpp).
    collectors_failed,
    /// A value of the wrong type was asked of a result or a context, or none was there.
    bad_value,
};

const std::error_category& collector_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), collector_category()};
}

} // namespace courier::event_collector

template <> struct std::is_error_code_enum<courier::event_collector::errc> : std::true_type
{
};

#endif
