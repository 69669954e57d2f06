// A Prometheus histogram with fixed bucket bounds, cheap to observe: one bucket search over
// a handful of bounds and three relaxed atomic additions. Observed from one strand, read by a
// scrape from any thread (a scrape may see an observation half counted, as Prometheus
// clients allow).
#ifndef COURIER_SRC_METRICS_HISTOGRAM_HPP
#define COURIER_SRC_METRICS_HISTOGRAM_HPP

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

namespace courier::detail::metrics {

/// Seconds, for durations of handlers, requests and acknowledgements (Prometheus' defaults
/// with a longer tail: handlers may take minutes).
inline constexpr std::array<double, 14> duration_bounds{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1,     2.5,  5,     10,   30,  120};
/// Seconds, for the age of a message when it is received (queues may hold them for days).
inline constexpr std::array<double, 12> age_bounds{0.01, 0.1, 1, 5, 30, 60, 300, 900, 3600, 14400, 86400, 345600};

class histogram
{
public:
    explicit histogram(std::span<const double> bounds)
        : bounds_(bounds.begin(), bounds.end()),
          buckets_(bounds.size() + 1)
    {
    }

    void observe(double value) noexcept
    {
        const auto bucket =
            static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
        buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
        // The sum in nanounits keeps it an integer atomic (no compare-and-swap loop on a double).
        sum_nano_.fetch_add(static_cast<std::int64_t>(value * 1e9), std::memory_order_relaxed);
    }

    const std::vector<double>& bounds() const noexcept { return bounds_; }
    /// Observations in bucket `i` alone (the last one: above every bound).
    std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i].load(std::memory_order_relaxed); }
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    double sum() const noexcept { return static_cast<double>(sum_nano_.load(std::memory_order_relaxed)) / 1e9; }

private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::int64_t> sum_nano_{0};
};

} // namespace courier::detail::metrics

#endif
