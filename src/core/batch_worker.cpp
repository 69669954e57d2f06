// The workers of a batch route: each takes up to a batch of ready messages (waiting up to
// the batch window for more), calls the route's batch handler once for those it starts, and
// settles each message on its own as `plan_settlement` says, through the same settlement
// as a single message (settle.cpp). The single-message worker is worker.cpp.
#include "core/route_runner.hpp"

#include <courier/error.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::detail {

asio::awaitable<void> route_runner::batch_work(pool::worker& w)
{
    const std::size_t most = route_.batching().max_messages;
    std::vector<entry> batch, started;
    std::vector<context> contexts;
    std::vector<batch_slot> slots;
    batch.reserve(most);
    started.reserve(most);
    contexts.reserve(most); // contexts are referred to by the slots: they must not move
    slots.reserve(most);
    for (;;)
    {
        batch.clear();
        workers_.take_up_to(most, batch);
        if (batch.empty())
        {
            if (workers_.closing())
                co_return;
            co_await workers_.wait(w);
            continue;
        }
        co_await gather_batch(w, batch);
        started.clear();
        contexts.clear();
        slots.clear();
        for (const entry e : batch)
        {
            if (stopping_ || e->give_back)
            {
                log_(log_level::debug, e->msg, "not started: {}",
                     stopping_ ? "the route stops" : "its FIFO group is delivered again");
                settle_without_waiting(e, plan_settlement({handling_result::not_started}, {stopping_, terminal_},
                                                          settles_, route_.options().leave_delay));
                continue;
            }
            started.push_back(e);
            contexts.emplace_back(e->msg, route_.name(), log_.underlying(), shared_.blocking_executor);
            log_(log_level::debug, e->msg, "received (delivery {})", e->msg.receive_count);
        }
        if (started.empty())
            continue;
        for (auto& ctx : contexts)
            slots.push_back({&ctx, nullptr});
        log_(log_level::debug, "handling a batch of {} message(s)", started.size());
        std::exception_ptr failure;
        w.handling = true;
        try
        {
            co_await route_.invoke_batch(slots);
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        w.handling = false;
        if (w.cancelled)
        {
            co_await asio::this_coro::reset_cancellation_state();
            w.cancelled = false;
        }
        for (std::size_t i = 0; i < started.size(); ++i)
        {
            const auto result = outcome_of(slots[i].failure ? slots[i].failure : failure, contexts[i]);
            if (measure_)
                started[i]->settle_started = shared_.clock->now();
            settle_without_waiting(
                started[i], plan_settlement(result, {stopping_, terminal_}, settles_, route_.options().leave_delay));
        }
    }
}

// Tops a batch that is not full up with what arrives within the window of its first message.
asio::awaitable<void> route_runner::gather_batch(pool::worker& w, std::vector<entry>& batch)
{
    const auto& batching = route_.batching();
    if (batching.window <= std::chrono::milliseconds::zero())
        co_return;
    const auto until = shared_.clock->now() + batching.window;
    while (batch.size() < batching.max_messages && !stopping_ && shared_.clock->now() < until)
        co_await (shared_.clock->sleep_until(until) || workers_.wait_for_more(w, batch, batching.max_messages));
}

} // namespace courier::detail
