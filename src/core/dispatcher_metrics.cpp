// What a dispatcher tells operators: its routes' metrics in the Prometheus text format, and
// whether it is ready.
#include "core/dispatcher_impl.hpp"
#include "metrics/exposition.hpp"
#include "metrics/request_metrics.hpp"

#include <fmt/format.h>

namespace courier {

namespace {

namespace m = detail::metrics;

struct counter_family
{
    std::string_view name;
    std::string_view help;
    std::uint64_t route_stats::*value;
};

constexpr counter_family counters[] = {
    {"courier_messages_received_total", "Deliveries taken from the provider.", &route_stats::received},
    {"courier_messages_handled_total", "Messages whose handler returned without an exception.", &route_stats::handled},
    {"courier_messages_failed_total", "Messages whose translator or handler threw.", &route_stats::failed},
    {"courier_messages_acknowledged_total", "Acknowledgements the provider confirmed.", &route_stats::acked},
    {"courier_messages_retried_total", "Messages delivered again after a delay.", &route_stats::retried},
    {"courier_messages_released_total", "Messages given back unhandled for immediate redelivery.",
     &route_stats::released},
    {"courier_messages_left_total", "Messages left to the provider's redelivery.", &route_stats::left},
    {"courier_heartbeats_total", "Visibility extensions the provider confirmed.", &route_stats::heartbeats},
};

} // namespace

std::string dispatcher::metrics_text() const
{
    const auto& d = *impl_;
    std::vector<std::shared_ptr<detail::route_runner>> runners;
    {
        std::lock_guard lock(d.mutex);
        runners = d.runners;
    }
    std::vector<route_stats> stats;
    for (const auto& r : d.routes)
        stats.push_back(r.stats());
    m::exposition out;
    for (const auto& family : counters)
    {
        out.family(family.name, "counter", family.help);
        for (std::size_t i = 0; i < d.routes.size(); ++i)
            out.sample(family.name, {{"route", d.routes[i].name()}}, static_cast<double>(stats[i].*family.value));
    }
    out.family("courier_provider_errors_total", "counter",
               "Failed provider calls (open, receive, ack, release, retry, extend), by error code.");
    for (const auto& runner : runners)
        for (const auto& [code, count] : runner->metrics().provider_errors())
            out.sample("courier_provider_errors_total", {{"route", runner->served().name()}, {"code", code}},
                       static_cast<double>(count));
    out.family("courier_messages_in_flight", "gauge",
               "Messages received and not yet settled (handled, waiting, held or being acknowledged).");
    for (const auto& runner : runners)
        out.sample("courier_messages_in_flight", {{"route", runner->served().name()}},
                   static_cast<double>(runner->metrics().in_flight.load()));
    out.family("courier_route_running", "gauge", "1 while the route receives, 0 otherwise.");
    for (const auto& runner : runners)
        out.sample("courier_route_running", {{"route", runner->served().name()}},
                   runner->metrics().state.load() == m::route_state::running ? 1 : 0);
    if (d.options.record_metrics)
    {
        const std::pair<std::string_view, std::string_view> histograms[] = {
            {"courier_handler_duration_seconds", "How long handlers took, translation included."},
            {"courier_message_age_seconds", "How old messages were when received (now minus their send time)."},
            {"courier_ack_latency_seconds", "From the start of an acknowledgement to its confirmation."},
        };
        for (const auto& [name, help] : histograms)
        {
            out.family(name, "histogram", help);
            for (const auto& runner : runners)
            {
                const auto& rm = runner->metrics();
                const auto& h = name == histograms[0].first   ? rm.handler_duration
                                : name == histograms[1].first ? rm.message_age
                                                              : rm.ack_latency;
                out.histogram_samples(name, {{"route", runner->served().name()}}, h);
            }
        }
    }
    detail::metrics::request_registry::instance().write(out);
    return out.take();
}

courier::readiness dispatcher::readiness(std::chrono::milliseconds window) const
{
    const auto& d = *impl_;
    std::vector<std::shared_ptr<detail::route_runner>> runners;
    {
        std::lock_guard lock(d.mutex);
        runners = d.runners;
    }
    courier::readiness result{.ready = true};
    if (runners.empty())
    {
        result.ready = false;
        result.reasons.emplace_back("not running");
        return result;
    }
    const auto now = d.clock->now();
    for (const auto& runner : runners)
    {
        const auto& rm = runner->metrics();
        const auto& name = runner->served().name();
        const auto state = rm.state.load();
        const auto last_ok = rm.last_receive_ok();
        const auto error = rm.last_receive_error();
        if (state != m::route_state::running)
            result.reasons.push_back(fmt::format("{}: {}{}", name, m::to_string(state),
                                                 error.empty() ? std::string() : "; last error: " + error));
        else if (rm.last_receive_failed())
            result.reasons.push_back(fmt::format("{}: the last receive failed: {}", name, error));
        else if (rm.awaiting_room.load() && last_ok != clock::time_point{})
            continue; // every message in flight is busy: full, not failing
        else if (last_ok == clock::time_point{} || now - last_ok > window)
        {
            std::string reason =
                last_ok == clock::time_point{}
                    ? fmt::format("{}: no receive has completed yet", name)
                    : fmt::format("{}: no successful receive for {} s", name,
                                  std::chrono::duration_cast<std::chrono::seconds>(now - last_ok).count());
            result.reasons.push_back(std::move(reason));
        }
    }
    result.ready = result.reasons.empty();
    return result;
}

} // namespace courier
