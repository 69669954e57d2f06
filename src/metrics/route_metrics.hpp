// What a route records for /metrics and /readyz beyond its counters (route_stats.hpp): the
// histograms, provider errors by error code, the messages in flight, and its health (state,
// last successful receive, last receive error). Written on the route's strand, read by a
// scrape or a probe from any thread.
#ifndef COURIER_SRC_METRICS_ROUTE_METRICS_HPP
#define COURIER_SRC_METRICS_ROUTE_METRICS_HPP

#include "metrics/histogram.hpp"

#include <courier/clock.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <string>

namespace courier::detail::metrics {

enum class route_state
{
    starting, ///< opening its provider
    running,  ///< receiving
    stopping, ///< draining after a stop
    stopped,
    failed, ///< stopped by an error that retrying cannot heal
};

std::string_view to_string(route_state s) noexcept;

/// The error code a failure is counted under: the courier::errc name ("throttled",
/// "transport_failed", ...), or "other".
std::string error_code_of(std::exception_ptr error);

class route_metrics
{
public:
    route_metrics() = default;
    route_metrics(const route_metrics&) = delete;
    route_metrics& operator=(const route_metrics&) = delete;

    histogram handler_duration{duration_bounds};
    histogram message_age{age_bounds};
    histogram ack_latency{duration_bounds};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<route_state> state{route_state::starting};
    /// The receive loop waits for room (every message in flight is busy): a full route is
    /// not an unhealthy one.
    std::atomic<bool> awaiting_room{false};

    void provider_error(std::exception_ptr error)
    {
        const auto code = error_code_of(error);
        std::lock_guard lock(mutex_);
        ++errors_by_code_[code];
    }
    std::map<std::string, std::uint64_t> provider_errors() const
    {
        std::lock_guard lock(mutex_);
        return errors_by_code_;
    }

    void receive_succeeded(clock::time_point at) noexcept
    {
        last_receive_ok_.store(at.time_since_epoch().count(), std::memory_order_relaxed);
        last_receive_failed_.store(false, std::memory_order_relaxed);
    }
    void receive_failed(std::string text)
    {
        std::lock_guard lock(mutex_);
        last_receive_error_ = std::move(text);
        last_receive_failed_.store(true, std::memory_order_relaxed);
    }
    /// The last receive (or open) failed; `last_receive_error` says how.
    bool last_receive_failed() const noexcept { return last_receive_failed_.load(std::memory_order_relaxed); }
    /// When the last receive succeeded (or came back empty); nothing yet: the epoch.
    clock::time_point last_receive_ok() const noexcept
    {
        return clock::time_point(clock::duration(last_receive_ok_.load(std::memory_order_relaxed)));
    }
    std::string last_receive_error() const
    {
        std::lock_guard lock(mutex_);
        return last_receive_error_;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> errors_by_code_;
    std::atomic<clock::duration::rep> last_receive_ok_{0};
    std::atomic<bool> last_receive_failed_{false};
    std::string last_receive_error_;
};

} // namespace courier::detail::metrics

#endif
