// A Route: a Provider, through a MessageTranslator, to a Handler, with an error handler.
//
// The handler is either a coroutine (returns `asio::awaitable<void>`) run on the
// route's strand, or a plain callable, which courier runs on a bounded thread pool so
// it never blocks the event loop. It takes the translated value, optionally followed
// by `courier::context&`:
//
//     courier::route r("orders", queue, courier::json<order>{},
//         [](order o, courier::context& ctx) -> boost::asio::awaitable<void> { ... },
//         {.max_in_flight = 32, .on_error = courier::retry_with_backoff()});
//
// Without a translator the handler gets the raw `courier::message`.
#ifndef COURIER_ROUTE_HPP
#define COURIER_ROUTE_HPP

#include <courier/context.hpp>
#include <courier/outcome.hpp>
#include <courier/provider.hpp>
#include <courier/translator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace courier {

/// Per-route settings. Defaults suit most queues.
struct route_options
{
    /// Messages of this route being handled (or waiting in their FIFO group, or being
    /// acknowledged) at once. The provider is asked for more only when there is room.
    std::size_t max_in_flight = 10;
    /// Most messages asked for per `receive` (SQS allows 10).
    std::size_t receive_batch = 10;
    /// Decides what happens after a failure; empty = log the error and leave the
    /// message to its visibility timeout.
    error_handler on_error;
    /// Extend the visibility of messages whose handling takes long, every third of the
    /// provider's visibility timeout. Off when the provider has no timeout.
    bool heartbeat = true;
    /// Pause before receiving again after `receive` failed, doubled up to 30 s.
    std::chrono::milliseconds receive_error_backoff{std::chrono::milliseconds(200)};
};

/// Counters of one route, updated as messages flow. Read at any time.
struct route_stats
{
    std::atomic<std::uint64_t> received{0};  ///< deliveries taken from the provider
    std::atomic<std::uint64_t> handled{0};   ///< handler returned without error
    std::atomic<std::uint64_t> failed{0};    ///< translator or handler failed
    std::atomic<std::uint64_t> acked{0};     ///< acks the provider confirmed
    std::atomic<std::uint64_t> retried{0};   ///< made visible again after a delay
    std::atomic<std::uint64_t> released{0};  ///< handed back unhandled at shutdown
    std::atomic<std::uint64_t> left{0};      ///< left to the visibility timeout
    std::atomic<std::uint64_t> provider_errors{0}; ///< failed receive/ack/retry/extend calls
    std::atomic<std::uint64_t> heartbeats{0};      ///< visibility extensions sent
    std::atomic<std::size_t> in_flight_peak{0};    ///< highest number in flight seen
};

namespace detail {

/// The type-erased body of a route: translate, then handle.
using invoke_fn = std::function<boost::asio::awaitable<void>(context&)>;

template <class H, class T>
concept coroutine_handler_with_context =
    std::invocable<H&, T&&, context&> &&
    std::same_as<std::invoke_result_t<H&, T&&, context&>, boost::asio::awaitable<void>>;
template <class H, class T>
concept coroutine_handler = std::invocable<H&, T&&> &&
    std::same_as<std::invoke_result_t<H&, T&&>, boost::asio::awaitable<void>>;
template <class H, class T>
concept plain_handler_with_context = std::invocable<H&, T&&, context&> &&
    std::is_void_v<std::invoke_result_t<H&, T&&, context&>>;
template <class H, class T>
concept plain_handler =
    std::invocable<H&, T&&> && std::is_void_v<std::invoke_result_t<H&, T&&>>;

template <class H, class T>
concept handler_for = coroutine_handler_with_context<H, T> || coroutine_handler<H, T> ||
                      plain_handler_with_context<H, T> || plain_handler<H, T>;

/// Marks an exception thrown by a translator, so the error handler can tell.
[[noreturn]] void rethrow_as_translation_error(const context& ctx);

/// Starts the handler on an already translated value. Not a coroutine itself: it returns
/// the handler's own awaitable (or the blocking pool's), so a message costs no extra frame.
/// `value` must outlive the returned awaitable.
template <class Handler, class Value>
boost::asio::awaitable<void> call_handler(Handler& handle, Value&& value, context& ctx)
{
    if constexpr (coroutine_handler_with_context<Handler, Value>)
        return handle(std::forward<Value>(value), ctx);
    else if constexpr (coroutine_handler<Handler, Value>)
        return handle(std::forward<Value>(value));
    else
    {
        // Plain callables run on the blocking pool; the caller waits for them without
        // occupying the event loop.
        return boost::asio::co_spawn(
            ctx.blocking_executor(),
            [&handle, &value, &ctx]() -> boost::asio::awaitable<void> {
                if constexpr (plain_handler_with_context<Handler, Value>)
                    handle(std::forward<Value>(value), ctx);
                else
                    handle(std::forward<Value>(value));
                co_return;
            },
            boost::asio::use_awaitable);
    }
}

template <class Translator, class Handler>
invoke_fn make_invoke(Translator translate, Handler handle)
{
    using value_type = translated_t<Translator>;
    return [translate = std::move(translate),
            handle = std::move(handle)](context& ctx) mutable -> boost::asio::awaitable<void> {
        std::optional<value_type> value;
        try
        {
            value.emplace(translate(ctx.raw()));
        }
        catch (...)
        {
            rethrow_as_translation_error(ctx);
        }
        ctx.log(log_level::debug, "translated");
        co_await call_handler(handle, std::move(*value), ctx);
    };
}

/// A handler of the raw message gets the delivered message itself, not a copy (unless
/// it takes one by value or by rvalue reference).
template <class Handler>
invoke_fn make_raw_invoke(Handler handle)
{
    if constexpr (handler_for<Handler, const message&>)
        return [handle = std::move(handle)](context& ctx) mutable {
            return call_handler(handle, ctx.raw(), ctx);
        };
    else
        return make_invoke([](const message& msg) { return msg; }, std::move(handle));
}

} // namespace detail

/// A named connection from a provider to a handler.
///
/// Thread safety: configure before the dispatcher starts; afterwards only `stats()`
/// may be read, from any thread.
class route
{
public:
    /// A route whose handler takes the translator's result.
    template <translator Translator, class Handler>
        requires detail::handler_for<Handler, translated_t<Translator>>
    route(std::string name,
          std::shared_ptr<courier::provider> source,
          Translator translate,
          Handler handle,
          route_options options = {})
        : route(std::move(name),
                std::move(source),
                detail::make_invoke(std::move(translate), std::move(handle)),
                std::move(options))
    {
    }

    /// A route whose handler takes the raw `courier::message`.
    template <class Handler>
        requires detail::handler_for<Handler, message>
    route(std::string name,
          std::shared_ptr<courier::provider> source,
          Handler handle,
          route_options options = {})
        : route(std::move(name),
                std::move(source),
                detail::make_raw_invoke(std::move(handle)),
                std::move(options))
    {
    }

    /// The type-erased form the templates above produce.
    route(std::string name,
          std::shared_ptr<courier::provider> source,
          detail::invoke_fn invoke,
          route_options options);

    route(route&&) noexcept;
    route& operator=(route&&) noexcept;
    ~route();

    const std::string& name() const noexcept { return name_; }
    courier::provider& source() const noexcept { return *source_; }
    const route_options& options() const noexcept { return options_; }
    const route_stats& stats() const noexcept { return *stats_; }

    /// Translates and handles one message (used by the dispatcher).
    boost::asio::awaitable<void> invoke(context& ctx) const { return invoke_(ctx); }
    route_stats& mutable_stats() const noexcept { return *stats_; }

private:
    std::string name_;
    std::shared_ptr<courier::provider> source_;
    detail::invoke_fn invoke_;
    route_options options_;
    std::unique_ptr<route_stats> stats_;
};

} // namespace courier

#endif
