// The shapes a handler can take, and how a route calls one.
//
// A handler takes the translated value, optionally followed by `courier::context&`, and is
// either a coroutine (returns `boost::asio::awaitable<void>`), run on the route's strand, or
// a plain callable (returns void), which courier runs on a bounded thread pool so that it
// never blocks the event loop. Returning means success: the message is acknowledged.
#ifndef COURIER_HANDLER_HPP
#define COURIER_HANDLER_HPP

#include <courier/context.hpp>
#include <courier/translator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <concepts>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace courier {

template <class H, class T>
concept coroutine_handler_with_context = std::invocable<H&, T&&, context&> &&
    std::same_as<std::invoke_result_t<H&, T&&, context&>, boost::asio::awaitable<void>>;
template <class H, class T>
concept coroutine_handler =
    std::invocable<H&, T&&> && std::same_as<std::invoke_result_t<H&, T&&>, boost::asio::awaitable<void>>;
template <class H, class T>
concept plain_handler_with_context =
    std::invocable<H&, T&&, context&> && std::is_void_v<std::invoke_result_t<H&, T&&, context&>>;
template <class H, class T>
concept plain_handler = std::invocable<H&, T&&> && std::is_void_v<std::invoke_result_t<H&, T&&>>;

/// Satisfied by every accepted handler shape for values of type T.
template <class H, class T>
concept handler_for = coroutine_handler_with_context<H, T> || coroutine_handler<H, T> ||
    plain_handler_with_context<H, T> || plain_handler<H, T>;

namespace detail {

/// The type-erased body of a route: translate, then handle.
using invoke_fn = std::function<boost::asio::awaitable<void>(context&)>;

template <class Handler, class T> constexpr void check_handler_shape()
{
    static_assert(handler_for<Handler, T>,
                  "courier: a handler must be callable as one of "
                  "boost::asio::awaitable<void>(T, courier::context&), boost::asio::awaitable<void>(T), "
                  "void(T, courier::context&) or void(T), where T is what the route's translator "
                  "returns (courier::message for a route without a translator)");
}

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

template <class Translator, class Handler> invoke_fn make_invoke(Translator translate, Handler handle)
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

/// A handler of the raw message gets the delivered message itself, not a copy (unless it
/// takes one by value or by rvalue reference).
template <class Handler> invoke_fn make_raw_invoke(Handler handle)
{
    if constexpr (handler_for<Handler, const message&>)
        return [handle = std::move(handle)](context& ctx) mutable { return call_handler(handle, ctx.raw(), ctx); };
    else
        return make_invoke([](const message& msg) { return msg; }, std::move(handle));
}

} // namespace detail
} // namespace courier

#endif
