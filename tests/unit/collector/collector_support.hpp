// Shared by the collector queue's tests: an io_context on simulated time, a log capture,
// queue options wired to both, and small processors.
#ifndef COURIER_TESTS_COLLECTOR_SUPPORT_HPP
#define COURIER_TESTS_COLLECTOR_SUPPORT_HPP

#include "../test_support.hpp"

#include <courier/collector.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

namespace courier_test {

namespace ec = courier::event_collector;

struct collector_fixture : simulated_fixture
{
    ec::collector_queue_options options(ec::collector_queue_options o = {})
    {
        o.clock = clock;
        o.log = logs.make(courier::log_level::debug);
        return o;
    }

    /// Runs `fn()` to its end on simulated time.
    template <class Fn> auto run(Fn fn) { return run_simulated(io, *clock, std::move(fn)); }

    /// A collector of strings answering Ok(its key + ":" + the value), after `delay` of
    /// simulated time; the values it saw go to `seen`.
    ec::collector<std::string> echo(std::string key, std::vector<std::string> topics = {},
                                    courier::clock::duration delay = {}, std::vector<std::string>* seen = nullptr)
    {
        auto c = clock;
        return ec::collector<std::string>(
            key,
            [key, c, delay, seen](const ec::payload<std::string>& p) -> asio::awaitable<ec::result> {
                if (delay > courier::clock::duration::zero())
                    co_await c->sleep_for(delay);
                if (seen != nullptr)
                    seen->push_back(p.value);
                co_return ec::ok(key + ":" + p.value);
            },
            {.topics = std::move(topics)});
    }
};

/// The keys of a result list, in order.
inline std::vector<std::string> keys_of(const ec::result_list& results)
{
    std::vector<std::string> keys;
    for (const auto& r : results)
        keys.push_back(r.key());
    return keys;
}

/// The payload `value` as the default broadcast.
inline ec::payload<std::string> broadcast(std::string value)
{
    return ec::payload<std::string>{std::move(value)};
}

/// Sends and waits for the results.
inline asio::awaitable<ec::result_list> send_and_wait(ec::event_publisher<std::string> publisher,
                                                      ec::payload<std::string> p)
{
    auto event = co_await publisher.send(std::move(p));
    co_return co_await event.wait();
}

} // namespace courier_test

#endif
