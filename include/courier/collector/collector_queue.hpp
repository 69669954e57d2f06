// The collector queue: an in-process publisher/consumer queue that hands each payload
// to the collectors its delivery names and gives back their results (the seed's
// CollectorQueue).
//
//     ec::collector_queue<reading> queue(io.get_executor(), {file, averages, range},
//                                        {.min_consumers = 1, .max_consumers = 8});
//     co_await queue.while_running([&](ec::event_publisher<reading> publisher) -> asio::awaitable<void> {
//         ec::payload<reading> p{.value = r, .delivery = ec::delivery::topic, .topics = {"sensor-data"}};
//         auto results = co_await (co_await publisher.send(std::move(p))).wait();
//     });
//
// or `co_await queue.start(); ... co_await queue.stop();` by hand.
//
// Consumers (coroutines on the queue's executor) take waiting payloads in the queue's
// order and run the chosen collectors concurrently. Scaling: a consumer is added when a
// payload arrives while every consumer is busy (or already woken for another payload),
// up to `max_consumers`; a consumer above `min_consumers` stops after
// `consumer_idle_timeout` without work (the one idle longest goes first). Idle time is
// measured on the queue's `courier::clock`.
//
// Stops: `stop()` takes no more payloads, lets the waiting ones (senders waiting for
// room included) be processed, then runs the teardowns. `stop_now()` completes every
// waiting payload's event with a cancellation Error (`errc::payload_cancelled`), cancels
// the processors running (terminal cancellation; a processor that does not wait
// finishes), then runs the teardowns. Every event ever returned by `send` completes.
//
// Crashes: the queue lives in memory. Payloads waiting or in process when the process
// dies are lost, as in the seed. Fed from a route (route_bridge.hpp), nothing is lost:
// the source message is acknowledged only after every collector returned Ok, so a
// crash leaves it in its queue to be delivered again.
#ifndef COURIER_COLLECTOR_COLLECTOR_QUEUE_HPP
#define COURIER_COLLECTOR_COLLECTOR_QUEUE_HPP

#include <courier/collector/collector.hpp>
#include <courier/collector/detail/queue_core.hpp>
#include <courier/collector/publisher.hpp>
#include <courier/collector/queue_options.hpp>
#include <courier/collector/router.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::event_collector {

/// A queue of payloads of type `T` for a fixed set of collectors.
///
/// Executor: everything the queue does (lifecycles, routing, processors) runs on
/// `executor`, one handler at a time (a strand is added when `executor` may run handlers
/// on several threads at once).
/// Thread safety: `send` (through publishers), `start`, `stop`, `stop_now`, `stats` and
/// `get_publisher` may be used from any thread and any executor. Processors must not
/// await `stop()` (it waits for them), nor send to their own queue when it has a
/// capacity and every consumer might do the same (nothing would free room).
/// Lifetime: stop it before destroying it. Destroying a queue that is still running
/// starts an immediate stop in the background (teardowns then run once the executor
/// gets to them, if it still runs).
template <class T> class collector_queue
{
public:
    /// Throws `courier::error` (`courier::errc::bad_configuration`) if there is no
    /// collector, a key is empty or repeated, or the consumer limits are out of order.
    collector_queue(boost::asio::any_io_executor executor, std::vector<collector<T>> collectors,
                    collector_queue_options options = {}, std::shared_ptr<router<T>> custom_router = nullptr)
        : core_(detail::queue_core::create(std::move(executor), erase(collectors), std::move(options),
                                           make_route_fn(std::move(custom_router))))
    {
    }

    collector_queue(const collector_queue&) = delete;
    collector_queue& operator=(const collector_queue&) = delete;
    ~collector_queue() { core_->abandon(); }

    /// Runs every lifecycle setup, in order, then starts `min_consumers` consumers.
    /// Errors: if a setup throws, the collectors already set up are torn down, every
    /// payload sent so far completes with an Error, and `courier::error`
    /// (`errc::setup_failed`, naming the collector and the cause) is thrown. Starting
    /// twice throws `courier::errc::bad_configuration`.
    boost::asio::awaitable<void> start() { return core_->start(); }

    /// The graceful stop (see the top of this file). Idempotent; every caller returns
    /// when the queue has stopped. Throws `courier::error` (`errc::teardown_failed`)
    /// after everything ran if a teardown threw (each failure is logged).
    boost::asio::awaitable<void> stop() { return core_->stop(false); }

    /// The immediate stop (see the top of this file); may also hurry a graceful stop
    /// under way. Errors as `stop()`.
    boost::asio::awaitable<void> stop_now() { return core_->stop(true); }

    /// The seed's `async with`: starts, runs `body(publisher)`, and stops gracefully
    /// whether the body returned or threw (its exception is then rethrown, and a
    /// teardown failure only logged). Returns what the body returns.
    template <class Body> auto while_running(Body body) -> std::invoke_result_t<Body&, event_publisher<T>>
    {
        using value_type = typename std::invoke_result_t<Body&, event_publisher<T>>::value_type;
        co_await start();
        std::exception_ptr failure;
        std::optional<std::conditional_t<std::is_void_v<value_type>, int, value_type>> value;
        try
        {
            if constexpr (std::is_void_v<value_type>)
                co_await body(get_publisher());
            else
                value.emplace(co_await body(get_publisher()));
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        if (!failure)
            co_await stop();
        else
        {
            try
            {
                co_await stop();
            }
            catch (...)
            {
                // Already logged by the queue; the body's failure is the one to report.
            }
            std::rethrow_exception(failure);
        }
        if constexpr (!std::is_void_v<value_type>)
            co_return std::move(*value);
    }

    event_publisher<T> get_publisher() const { return event_publisher<T>(core_); }
    collector_queue_stats stats() const noexcept { return core_->stats(); }
    /// The executor the queue runs on.
    const boost::asio::any_io_executor& get_executor() const noexcept { return core_->get_executor(); }

private:
    static std::vector<detail::erased_collector> erase(std::vector<collector<T>>& collectors)
    {
        std::vector<detail::erased_collector> erased;
        erased.reserve(collectors.size());
        for (auto& c : collectors)
            erased.push_back(c.erased());
        return erased;
    }

    static detail::route_fn make_route_fn(std::shared_ptr<router<T>> r)
    {
        if (!r)
            return {};
        return [r = std::move(r)](const void* p, const collector_set& set) {
            return r->route(*static_cast<const payload<T>*>(p), set);
        };
    }

    std::shared_ptr<detail::queue_core> core_;
};

} // namespace courier::event_collector

#endif
