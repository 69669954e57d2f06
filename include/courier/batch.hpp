// Batch handlers: a route whose handler takes many messages at once (sqs-consumer's
// handleMessageBatch, Shoryuken's batch workers, Spring's batch listeners), for example to
// write them to a database in one statement.
//
//     mgr.add_route("orders", queue, courier::json<order>{},
//         courier::batch([&](std::span<courier::batch_item<order>> orders) -> boost::asio::awaitable<void> {
//             co_await db.insert_all(orders);              // throws: every message failed
//             for (auto& o : orders)
//                 if (o.value().quantity > 1000)
//                     o.fail("over the limit");            // this one failed, the others succeed
//         }, {.max_messages = 10, .window = std::chrono::milliseconds(50)}),
//         {.max_in_flight = 20, .on_error = courier::retry_with_backoff()});
//
// A batch is up to `max_messages` messages ready at once, or what arrived within `window`
// of the first one. Each message is translated on its own (a translation failure goes to
// the error handler for that message alone and leaves the batch); the handler is called
// once with the rest, each with its context. Returning means every message not marked
// failed succeeded; throwing means every one failed, with that exception. Each failed
// message goes through the error handler as a single handler's failure would (a mark with
// `delete_message`, `retry_message` or `leave_message` settles it as thrown by a single
// handler), and each message is settled on its own, acknowledgements batched as always.
#ifndef COURIER_BATCH_HPP
#define COURIER_BATCH_HPP

#include <courier/context.hpp>
#include <courier/handler.hpp>
#include <courier/translator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

/// How messages are gathered into batches.
struct batch_options
{
    /// Most messages per batch; at most the route's `max_in_flight`.
    std::size_t max_messages = 10;
    /// With fewer ready, how long to wait for more after the first one (measured on
    /// `courier::clock`); zero takes what is ready at once.
    std::chrono::milliseconds window{0};
};

/// One message of a batch: its translated value, its context, and whether it failed.
template <class T> class batch_item
{
public:
    batch_item(T value, courier::context& ctx)
        : value_(std::move(value)),
          ctx_(&ctx)
    {
    }

    T& value() noexcept { return value_; }
    const T& value() const noexcept { return value_; }
    courier::context& context() const noexcept { return *ctx_; }
    const message& raw() const noexcept { return ctx_->raw(); }

    /// Marks the message failed with `error` (it goes through the error handler, or settles
    /// as a `delete_message`, `retry_message` or `leave_message` would).
    void fail(std::exception_ptr error) noexcept { failure_ = std::move(error); }
    /// Marks the message failed with a `std::runtime_error(reason)`.
    void fail(const std::string& reason) { failure_ = std::make_exception_ptr(std::runtime_error(reason)); }
    bool failed() const noexcept { return failure_ != nullptr; }
    const std::exception_ptr& failure() const noexcept { return failure_; }

private:
    T value_;
    courier::context* ctx_;
    std::exception_ptr failure_;
};

template <class H, class T>
concept coroutine_batch_handler = std::invocable<H&, std::span<batch_item<T>>> &&
    std::same_as<std::invoke_result_t<H&, std::span<batch_item<T>>>, boost::asio::awaitable<void>>;
template <class H, class T>
concept plain_batch_handler =
    std::invocable<H&, std::span<batch_item<T>>> && std::is_void_v<std::invoke_result_t<H&, std::span<batch_item<T>>>>;
/// A handler of batches of T: a coroutine or a plain function (run on the blocking pool)
/// taking `std::span<courier::batch_item<T>>`.
template <class H, class T>
concept batch_handler_for = coroutine_batch_handler<H, T> || plain_batch_handler<H, T>;

/// A batch handler with its options, as a route takes it (see `courier::batch`).
template <class Handler> struct batch_handler
{
    Handler handle;
    batch_options options;
};

/// Makes `handle` a route's batch handler (see the top of this file).
template <class Handler> batch_handler<Handler> batch(Handler handle, batch_options options = {})
{
    return {std::move(handle), options};
}

namespace detail {

/// One message of a batch as the engine sees it: its context, and the failure the
/// translator or the handler left for it.
struct batch_slot
{
    context* ctx;
    std::exception_ptr failure;
};

/// The type-erased body of a batch route: translate each, handle them all, mark failures.
using batch_invoke_fn = std::function<boost::asio::awaitable<void>(std::span<batch_slot>)>;

/// Calls a batch handler; plain ones on the blocking pool. `items` must outlive the result.
template <class Handler, class T>
boost::asio::awaitable<void> call_batch_handler(Handler& handle, std::span<batch_item<T>> items,
                                                const boost::asio::any_io_executor& blocking)
{
    if constexpr (coroutine_batch_handler<Handler, T>)
        return handle(items);
    else
        return boost::asio::co_spawn(
            blocking,
            [&handle, items]() -> boost::asio::awaitable<void> {
                handle(items);
                co_return;
            },
            boost::asio::use_awaitable);
}

/// Translates each slot's message (failures stay with their slot), calls the handler once
/// with the rest, and hands its marks (or its exception) back to the slots.
template <class Translator, class Handler> batch_invoke_fn make_batch_invoke(Translator translate, Handler handle)
{
    using value_type = translated_t<Translator>;
    return [translate = std::move(translate),
            handle = std::move(handle)](std::span<batch_slot> slots) mutable -> boost::asio::awaitable<void> {
        std::vector<batch_item<value_type>> items;
        std::vector<batch_slot*> owners;
        items.reserve(slots.size());
        owners.reserve(slots.size());
        for (auto& slot : slots)
        {
            try
            {
                try
                {
                    items.emplace_back(translate(slot.ctx->raw()), *slot.ctx);
                }
                catch (...)
                {
                    rethrow_as_translation_error(*slot.ctx);
                }
                owners.push_back(&slot);
            }
            catch (...)
            {
                slot.failure = std::current_exception();
            }
        }
        if (items.empty())
            co_return;
        std::exception_ptr all_failed;
        try
        {
            co_await call_batch_handler(handle, std::span<batch_item<value_type>>(items),
                                        items.front().context().blocking_executor());
        }
        catch (...)
        {
            all_failed = std::current_exception();
        }
        for (std::size_t i = 0; i < items.size(); ++i)
            owners[i]->failure = all_failed ? all_failed : items[i].failure();
    };
}

/// A batch handler of raw messages gets copies it may keep or move from.
template <class Handler> batch_invoke_fn make_raw_batch_invoke(Handler handle)
{
    return make_batch_invoke([](const message& msg) { return msg; }, std::move(handle));
}

} // namespace detail
} // namespace courier

#endif
