// The receive loop (see receiver.hpp).
#include "core/receiver.hpp"

#include "detail/cancellation.hpp"

#include <courier/error.hpp>

#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier::detail {

asio::awaitable<void> receive_loop(receiver_context ctx, const bool& stopping)
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    const auto batch = std::max<std::size_t>(ctx.options.receive_batch, 1);
    auto backoff = ctx.options.receive_error_backoff;
    while (!stopping)
    {
        ctx.metrics.awaiting_room.store(true, std::memory_order_relaxed);
        const std::size_t room = co_await ctx.space.take(batch, ctx.yield_to);
        ctx.metrics.awaiting_room.store(false, std::memory_order_relaxed);
        const auto started = ctx.time.now();
        std::vector<message> received;
        std::exception_ptr failure;
        try
        {
            received = co_await ctx.source.receive(room);
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        ctx.space.give_back(room - std::min(room, received.size()));
        if (failure)
        {
            if (stopping || is_operation_aborted(failure))
                break;
            ++ctx.counters.provider_errors;
            ctx.metrics.provider_error(failure);
            ctx.metrics.receive_failed(error_text(failure));
            if (ctx.stop_on_permanent_error && is_permanent(failure))
            {
                ctx.sink.failed_for_good(failure);
                break;
            }
            ctx.log(log_level::warning, "receive failed: {}; retrying in {} ms", error_text(failure), backoff.count());
            co_await ctx.time.sleep_for(backoff);
            backoff = std::min<milliseconds>(backoff * 2, std::chrono::seconds(30));
            continue;
        }
        backoff = ctx.options.receive_error_backoff;
        ctx.metrics.receive_succeeded(ctx.time.now());
        ctx.counters.received += received.size();
        // A provider that returns more than asked would break the in-flight bound: hand the
        // surplus straight back.
        while (received.size() > room)
        {
            const auto& surplus = received.back();
            ctx.log(log_level::warning, surplus,
                    "provider returned more messages than asked for; releasing the surplus");
            try
            {
                co_await ctx.source.release(surplus);
                ++ctx.counters.released;
            }
            catch (...)
            {
                ++ctx.counters.provider_errors;
                ctx.metrics.provider_error(std::current_exception());
                ctx.log(log_level::error, surplus, "release failed: {}", error_text(std::current_exception()));
            }
            received.pop_back();
        }
        for (auto& msg : received)
            ctx.sink.received(std::move(msg), started);
    }
}

} // namespace courier::detail
