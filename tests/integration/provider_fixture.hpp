// The broker provider tests' fixture: connection options for the run's RabbitMQ, providers
// of either transport, serving routes until a condition holds, and a queue's depth as the
// broker reports it.
#ifndef COURIER_TESTS_INTEGRATION_PROVIDER_FIXTURE_HPP
#define COURIER_TESTS_INTEGRATION_PROVIDER_FIXTURE_HPP

#include "broker_fixture.hpp"

#include <courier/amqp.hpp>
#include <courier/dispatcher.hpp>
#include <courier/stomp.hpp>

#include <functional>
#include <sstream>

namespace courier_test {

enum class transport
{
    amqp,
    stomp
};

struct provider_fixture : broker_fixture
{
    courier::logger log = logs.make(courier::log_level::debug);

    courier::amqp::connection_options amqp_options()
    {
        auto o = courier::amqp::parse_url(broker.amqp_url());
        o.log = log;
        o.publish_timeout = std::chrono::seconds(120); // a loaded broker can be slow to confirm
        return o;
    }

    courier::stomp::connection_options stomp_options()
    {
        auto o = courier::stomp::parse_url(broker.stomp_url());
        o.log = log;
        o.publish_timeout = std::chrono::seconds(120);
        return o;
    }

    std::shared_ptr<courier::provider> make(transport t, const std::string& queue, courier::broker::retry_policy retry,
                                            std::optional<courier::broker::listener_queue> listener = {},
                                            std::size_t prefetch = 0)
    {
        if (t == transport::amqp)
            return courier::make_amqp_provider(io.get_executor(), amqp_options(),
                                               {.queue = queue,
                                                .listener = listener,
                                                .prefetch = prefetch,
                                                .wait_time = 200ms,
                                                .retry = std::move(retry)});
        return courier::make_stomp_provider(io.get_executor(), stomp_options(),
                                            {.queue = queue,
                                             .listener = listener,
                                             .prefetch = prefetch,
                                             .wait_time = 200ms,
                                             .retry = std::move(retry)});
    }

    // Runs `routes` until `until()` holds, then stops them gracefully; returns the dispatcher's stats.
    std::vector<courier::route_stats> serve(std::vector<courier::route> routes, std::function<bool()> until,
                                            std::chrono::milliseconds limit = std::chrono::seconds(120))
    {
        courier::dispatcher d(io.get_executor(), std::move(routes), {.log = log});
        run(
            [&]() -> asio::awaitable<void> {
                bool done = false;
                asio::co_spawn(io, d.run(), [&](std::exception_ptr, courier::stop_kind) { done = true; });
                while (!until())
                    co_await pause(20ms);
                d.stop();
                while (!done)
                    co_await pause(20ms);
            },
            limit);
        std::vector<courier::route_stats> stats;
        for (const auto& r : d.routes())
            stats.push_back(r.stats());
        return stats;
    }

    // Messages waiting in `queue` (ready, not delivered), from the broker itself.
    std::size_t ready(const std::string& queue)
    {
        const auto out = broker.ctl("list_queues name messages_ready --no-table-headers --quiet");
        std::istringstream lines(out);
        std::string name;
        std::size_t n = 0;
        while (lines >> name >> n)
            if (name == queue)
                return n;
        return 0;
    }
};

} // namespace courier_test

#endif
