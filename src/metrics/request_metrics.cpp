// The process-wide registry of service requests (see request_metrics.hpp).
#include "metrics/request_metrics.hpp"

namespace courier::detail::metrics {

request_registry& request_registry::instance()
{
    static request_registry registry;
    return registry;
}

request_series& request_registry::series(std::string_view service, std::string_view action)
{
    std::lock_guard lock(mutex_);
    auto s = services_.find(service);
    if (s == services_.end())
        s = services_.emplace(std::string(service), by_action{}).first;
    auto a = s->second.find(action);
    if (a == s->second.end())
        a = s->second.emplace(std::string(action), std::make_unique<request_series>()).first;
    return *a->second;
}

void request_registry::write(exposition& out) const
{
    std::lock_guard lock(mutex_);
    out.family("courier_provider_requests_total", "counter",
               "Requests sent to the service behind a provider or publisher (each attempt), by action and outcome.");
    for (const auto& [service, actions] : services_)
        for (const auto& [action, s] : actions)
        {
            out.sample("courier_provider_requests_total",
                       {{"service", service}, {"action", action}, {"outcome", "success"}},
                       static_cast<double>(s->succeeded.load(std::memory_order_relaxed)));
            out.sample("courier_provider_requests_total",
                       {{"service", service}, {"action", action}, {"outcome", "failure"}},
                       static_cast<double>(s->failed.load(std::memory_order_relaxed)));
        }
    out.family("courier_provider_request_duration_seconds", "histogram",
               "From sending a request to its answer or failure, by service and action.");
    for (const auto& [service, actions] : services_)
        for (const auto& [action, s] : actions)
            out.histogram_samples("courier_provider_request_duration_seconds",
                                  {{"service", service}, {"action", action}}, s->duration);
}

} // namespace courier::detail::metrics
