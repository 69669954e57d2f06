// A collector: a unique key, a processor, optional topics, an optional lifecycle and a
// context, as the seed's Collector.
//
//     ec::collector<reading> averages("running-average",
//         [](const ec::payload<reading>& p, ec::context& ctx) -> asio::awaitable<ec::result> {
//             auto& sums = ctx.get<per_sensor>();
//             co_return ec::ok(sums.add(p.value.sensor, p.value.celsius));
//         },
//         {.topics = {"sensor-data"},
//          .lifecycle = {.setup = [](ec::context& ctx) -> asio::awaitable<void> {
//              ctx.emplace<per_sensor>();
//              co_return;
//          }}});
//
// The processor is a coroutine taking the payload (by const reference: a broadcast
// payload is shared by every collector) and, optionally, the collector's context.
#ifndef COURIER_COLLECTOR_COLLECTOR_HPP
#define COURIER_COLLECTOR_COLLECTOR_HPP

#include <courier/collector/context.hpp>
#include <courier/collector/payload.hpp>
#include <courier/collector/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::event_collector {

/// Setup and teardown of a collector (the seed's lifecycle context manager).
///
/// `setup` runs when the queue starts, before any consumer exists (collectors in the
/// order given); `teardown` runs when it stops, after the last payload, in the reverse
/// order, for every collector whose setup completed (or that has none), even after
/// processors failed or another collector's setup did. A setup that throws must undo
/// what it did itself: its teardown does not run.
struct lifecycle
{
    std::function<boost::asio::awaitable<void>(context&)> setup;
    std::function<boost::asio::awaitable<void>(context&)> teardown;
};

/// Optional parts of a collector.
struct collector_options
{
    /// The topics it listens to (for `delivery::topic`).
    std::vector<std::string> topics;
    event_collector::lifecycle lifecycle;
    /// A context prepared beforehand; null gives the collector a new, empty one.
    std::shared_ptr<event_collector::context> context;
};

namespace detail {

/// A collector with its processor type-erased: what the compiled queue core works with.
struct erased_collector
{
    std::string key;
    std::vector<std::string> topics;
    event_collector::lifecycle lifecycle;
    std::shared_ptr<event_collector::context> context;
    /// Calls the processor on a `const payload<T>*`.
    std::function<boost::asio::awaitable<result>(const void*, event_collector::context&)> process;
};

template <class F, class T>
concept processor_with_context = std::invocable < F&,
        const payload<T>
&, context& > &&std::same_as<std::invoke_result_t<F&, const payload<T>&, context&>, boost::asio::awaitable<result>>;
template <class F, class T>
concept processor_without_context = std::invocable < F&,
        const payload<T>
& > &&std::same_as<std::invoke_result_t<F&, const payload<T>&>, boost::asio::awaitable<result>>;

} // namespace detail

/// A processor of `payload<T>`: `awaitable<result>(const payload<T>&, context&)`, or
/// without the context.
template <class F, class T>
concept processor_for = detail::processor_with_context<F, T> || detail::processor_without_context<F, T>;

/// One destination of payloads of type `T`.
///
/// Copies share the context. Thread safety: configure before giving it to a queue.
template <class T> class collector
{
public:
    /// `key` must be unique in its queue and not empty (the queue checks).
    template <processor_for<T> Processor> collector(std::string key, Processor process, collector_options options = {})
    {
        erased_.key = std::move(key);
        erased_.topics = std::move(options.topics);
        erased_.lifecycle = std::move(options.lifecycle);
        erased_.context = options.context ? std::move(options.context) : std::make_shared<event_collector::context>();
        erased_.process = [process = std::move(process)](const void* p, event_collector::context& ctx) mutable {
            const auto& typed = *static_cast<const payload<T>*>(p);
            if constexpr (detail::processor_with_context<Processor, T>)
                return process(typed, ctx);
            else
                return process(typed);
        };
    }

    const std::string& key() const noexcept { return erased_.key; }
    const std::vector<std::string>& topics() const noexcept { return erased_.topics; }
    /// Its context (to store values before the queue starts, or read them after).
    event_collector::context& context() const noexcept { return *erased_.context; }
    const std::shared_ptr<event_collector::context>& shared_context() const noexcept { return erased_.context; }

    /// The type-erased form, for the queue.
    const detail::erased_collector& erased() const noexcept { return erased_; }

private:
    detail::erased_collector erased_;
};

} // namespace courier::event_collector

#endif
