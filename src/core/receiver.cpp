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
        const std::size_t room = co_await ctx.space.take(batch, ctx.yield_to);
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
            ctx.log(log_level::warning, "receive failed: {}; retrying in {} ms",
                        error_text(failure), backoff.count());
            co_await ctx.time.sleep_for(backoff);
            backoff = std::min<milliseconds>(backoff * 2, std::chrono::seconds(30));
            continue;
        }
        backoff = ctx.options.receive_error_backoff;
        ctx.counters.received += received.size();
        // A provider that returns more than asked would break the in-flight bound: hand the
        // surplus straight back.
        while (received.size() > room)
        {
            const auto& surplus = received.back();
            ctx.log(log_level::warning, surplus, "provider returned more messages than asked for; releasing the surplus");
            try
            {
                co_await ctx.source.release(surplus);
                ++ctx.counters.released;
            }
            catch (...)
            {
                ++ctx.counters.provider_errors;
                ctx.log(log_level::error, surplus, "release failed: {}",
                            error_text(std::current_exception()));
            }
            received.pop_back();
        }
        for (auto& msg : received)
            ctx.sink.received(std::move(msg), started);
    }
}

} // namespace courier::detail
