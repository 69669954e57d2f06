// What a route did: counts of messages by what became of them.
#ifndef COURIER_ROUTE_STATS_HPP
#define COURIER_ROUTE_STATS_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace courier {

/// A snapshot of a route's counters (see `route::stats`). Every settlement is counted once,
/// when the provider confirmed it.
struct route_stats
{
    std::uint64_t received = 0;        ///< deliveries taken from the provider
    std::uint64_t handled = 0;         ///< handler returned without an exception
    std::uint64_t failed = 0;          ///< translator or handler threw (outcome exceptions aside)
    std::uint64_t acked = 0;           ///< acknowledgements the provider confirmed
    std::uint64_t retried = 0;         ///< delivered again after a delay
    std::uint64_t released = 0;        ///< given back unhandled for immediate redelivery
    std::uint64_t left = 0;            ///< left to the provider's redelivery
    std::uint64_t provider_errors = 0; ///< failed open, receive, ack, release, retry or extend calls
    std::uint64_t heartbeats = 0;      ///< visibility extensions the provider confirmed
    std::size_t in_flight_peak = 0;    ///< highest number in flight seen
};

namespace detail {

/// The live counters behind `route_stats`: written by the route's strand, read from any
/// thread.
struct route_counters
{
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> handled{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> acked{0};
    std::atomic<std::uint64_t> retried{0};
    std::atomic<std::uint64_t> released{0};
    std::atomic<std::uint64_t> left{0};
    std::atomic<std::uint64_t> provider_errors{0};
    std::atomic<std::uint64_t> heartbeats{0};
    std::atomic<std::size_t> in_flight_peak{0};

    route_stats snapshot() const noexcept
    {
        return {received.load(), handled.load(), failed.load(),          acked.load(),      retried.load(),
                released.load(), left.load(),    provider_errors.load(), heartbeats.load(), in_flight_peak.load()};
    }
};

} // namespace detail
} // namespace courier

#endif
