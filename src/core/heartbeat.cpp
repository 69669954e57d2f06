// The heartbeat (see heartbeat.hpp).
#include "core/heartbeat.hpp"

#include "detail/cancellation.hpp"

#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <vector>

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace courier::detail {

std::optional<milliseconds> next_extension(const visibility_limits& limits, clock::time_point received_at,
                                           clock::time_point now) noexcept
{
    if (limits.max_total <= milliseconds::zero())
        return limits.timeout;
    const auto left = std::chrono::duration_cast<milliseconds>(received_at + limits.max_total - now);
    if (left <= milliseconds::zero())
        return std::nullopt;
    return std::min(limits.timeout, left);
}

namespace {

void stop_extending(const heartbeat_context& ctx, in_flight_message& m, std::string_view why)
{
    m.extending = false;
    ctx.log(log_level::warning, m.msg,
            "{}: its visibility is no longer extended, and it may be delivered to another consumer "
            "while its handler still runs",
            why);
}

bool is_refusal(std::exception_ptr error)
{
    try
    {
        std::rethrow_exception(error);
    }
    catch (const courier::error& e)
    {
        return e.code() == errc::stale_receipt || e.code() == errc::visibility_limit;
    }
    catch (...)
    {
        return false;
    }
}

// One extension. `m` may be settled (and its node reused) while this waits: the receipt tells.
asio::awaitable<void> extend_one(heartbeat_context ctx, in_flight_message& m, message target, milliseconds extension)
{
    std::exception_ptr failure;
    try
    {
        co_await ctx.provider.extend(target, extension);
        ++ctx.counters.heartbeats;
        ctx.log(log_level::trace, target, "visibility extended by {} ms", extension.count());
        co_return;
    }
    catch (...)
    {
        failure = std::current_exception();
    }
    if (is_operation_aborted(failure))
        co_return;
    const bool still_here = m.msg.receipt == target.receipt;
    if (!still_here)
    {
        // An extension racing the message's own settlement fails harmlessly.
        ctx.log(log_level::debug, target, "extending visibility failed: {}", error_text(failure));
        co_return;
    }
    ++ctx.counters.provider_errors;
    ctx.metrics.provider_error(failure);
    if (is_refusal(failure))
    {
        if (m.extending)
            stop_extending(ctx, m, "the provider refused to extend its visibility (" + error_text(failure) + ")");
    }
    else
        ctx.log(log_level::warning, target, "extending visibility failed: {}", error_text(failure));
}

} // namespace

asio::awaitable<void> heartbeat_loop(heartbeat_context ctx)
{
    for (;;)
    {
        // Read every time: a provider may learn a new timeout (SQS re-reads the queue's).
        const visibility_limits limits{ctx.provider.visibility_timeout(), ctx.provider.max_visibility()};
        const auto interval = std::max<milliseconds>(limits.timeout / 3, milliseconds(1));
        co_await ctx.time.sleep_for(interval);
        const auto now = ctx.time.now();
        // Collected first: entries may be settled while an extension is started.
        std::vector<std::pair<in_flight_message*, milliseconds>> due;
        for (auto& m : ctx.messages)
        {
            if (!m.extending || m.received_at > now - interval)
                continue;
            const auto extension = next_extension(limits, m.received_at, now);
            if (!extension)
            {
                stop_extending(ctx, m, "it reached the provider's visibility limit");
                continue;
            }
            due.emplace_back(&m, *extension);
            if (*extension < limits.timeout)
            {
                // This extension takes it to the limit: the last one.
                m.extending = false;
                ctx.log(log_level::warning, m.msg,
                        "its visibility is extended to the provider's limit of {} ms since receipt, the "
                        "last extension: it may be delivered to another consumer if its handler runs longer",
                        limits.max_total.count());
            }
        }
        // Concurrently, so a batching provider (SQS) coalesces them into few requests.
        for (auto [m, extension] : due)
            asio::co_spawn(ctx.strand,
                           extend_one(ctx, *m, message{.id = m->msg.id, .receipt = m->msg.receipt}, extension),
                           asio::detached);
    }
}

} // namespace courier::detail
