// Requests that clients send to the services behind providers and publishers (SQS, SNS):
// attempts by service, action and outcome, and their latency. One registry for the process,
// since a client may be shared by several routes and publishers, and outlives dispatchers;
// every dispatcher's /metrics includes it.
#ifndef COURIER_SRC_METRICS_REQUEST_METRICS_HPP
#define COURIER_SRC_METRICS_REQUEST_METRICS_HPP

#include "metrics/exposition.hpp"
#include "metrics/histogram.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace courier::detail::metrics {

/// One action of one service.
struct request_series
{
    std::atomic<std::uint64_t> succeeded{0}; ///< answered 200
    std::atomic<std::uint64_t> failed{0};    ///< an error answer, a timeout or a broken connection
    histogram duration{duration_bounds};     ///< seconds from sending to the answer or failure
};

class request_registry
{
public:
    static request_registry& instance();

    /// The series of (`service`, `action`), created on first use; it lives as long as the
    /// process, so callers may keep the reference.
    request_series& series(std::string_view service, std::string_view action);

    /// `courier_provider_requests_total` and `courier_provider_request_duration_seconds`.
    void write(exposition& out) const;

private:
    using by_action = std::map<std::string, std::unique_ptr<request_series>, std::less<>>;
    mutable std::mutex mutex_;
    std::map<std::string, by_action, std::less<>> services_;
};

} // namespace courier::detail::metrics

#endif
