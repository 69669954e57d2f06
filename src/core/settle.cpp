// Settling a message with its provider: the provider call a plan names, a retry held by
// courier where the provider cannot delay one, and the bookkeeping once it is done: counters,
// the log line, the message's FIFO group, and the room it held.
#include "core/route_runner.hpp"

#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::detail {

// Not a coroutine: returns the provider's own awaitable, so settling costs no frame here.
asio::awaitable<void> route_runner::provider_call(const message& msg, const settlement_plan& plan)
{
    switch (plan.step)
    {
    case provider_step::ack: return route_.provider().ack(msg);
    case provider_step::retry: return capabilities_.retry->retry(msg, plan.delay);
    case provider_step::release:
    case provider_step::leave:
    case provider_step::hold_then_release: break;
    }
    return route_.provider().release(msg);
}

// Carries out a plan that needs no waiting provider call: an ack by callback, a leave, a
// held retry. False when the plan needs a provider call (see call_then_settle).
bool route_runner::settle_at_once(entry e, const settlement_plan& plan)
{
    if (plan.step == provider_step::ack && capabilities_.ack_callback != nullptr)
        capabilities_.ack_callback->start_ack(e->msg, *e); // confirmed() settles it
    else if (plan.step == provider_step::leave)
    {
        capabilities_.visibility->leave(e->msg);
        settled(e, plan, nullptr);
    }
    else if (plan.step == provider_step::hold_then_release)
        asio::co_spawn(strand_, hold_then_release(e, plan), asio::detached);
    else
        return false;
    return true;
}

// Carries a plan out without making the caller wait. A batch settles its messages this
// way, so that one waiting call (SQS gathers retries into batches for a moment) does not
// hold up the others.
void route_runner::settle_without_waiting(entry e, const settlement_plan& plan)
{
    if (!settle_at_once(e, plan))
        asio::co_spawn(strand_, call_then_settle(e, plan), asio::detached);
}

asio::awaitable<void> route_runner::call_then_settle(entry e, settlement_plan plan)
{
    const auto self = shared_from_this(); // the route lives until its last settlement
    std::exception_ptr failure;
    try
    {
        co_await provider_call(e->msg, plan);
    }
    catch (...)
    {
        failure = std::current_exception();
    }
    settled(e, plan, failure);
}

void route_runner::confirmed(in_flight_message& m, std::exception_ptr error) noexcept
{
    settled(m.self, {settlement::ack, provider_step::ack, {}}, std::move(error));
}

// The message stays in flight (holding its room) until the delay has passed or the route
// stops, then goes back to the provider.
asio::awaitable<void> route_runner::hold_then_release(entry e, settlement_plan plan)
{
    auto self = shared_from_this();
    log_(log_level::debug, e->msg, "held for {} ms, then released", plan.delay.count());
    const auto until = shared_.clock->now() + plan.delay;
    while (!stopping_ && shared_.clock->now() < until)
        co_await (shared_.clock->sleep_until(until) || changed_.wait());
    std::exception_ptr failure;
    try
    {
        co_await route_.provider().release(e->msg);
    }
    catch (...)
    {
        failure = std::current_exception();
    }
    settled(e, plan, failure);
}

void route_runner::settled(entry e, const settlement_plan& plan, std::exception_ptr failure) noexcept
{
    const message& msg = e->msg;
    if (failure)
    {
        // The message stays with the provider, which delivers it again: at-least-once holds,
        // at the cost of a duplicate.
        ++counters_.provider_errors;
        metrics_.provider_error(failure);
        log_(log_level::error, msg, "{} failed: {}; the message will be delivered again", to_string(plan.outcome),
             error_text(failure));
    }
    else
        switch (plan.outcome)
        {
        case settlement::ack:
            ++counters_.acked;
            log_(log_level::debug, msg, "acked");
            if (shared_.options.record_metrics)
                metrics_.ack_latency.observe(
                    std::chrono::duration<double>(shared_.clock->now() - e->settle_started).count());
            if (hooks_.acknowledged)
                call_hook(hooks_.acknowledged, msg);
            break;
        case settlement::retry:
            ++counters_.retried;
            log_(log_level::debug, msg, "retrying in {} ms", plan.delay.count());
            break;
        case settlement::release:
            ++counters_.released;
            log_(log_level::info, msg, "released for redelivery");
            if (hooks_.released)
                call_hook(hooks_.released, msg);
            break;
        case settlement::leave: ++counters_.left; break;
        }
    if (e->group_head)
    {
        if (plan.outcome == settlement::ack && !failure)
        {
            if (const auto next = groups_.acknowledged(msg.group_id))
            {
                (*next)->group_head = true;
                workers_.push(*next);
            }
        }
        else
            for (const entry mate : groups_.broken(msg.group_id))
            {
                mate->give_back = true;
                workers_.push(mate);
            }
    }
    messages_.remove(e);
    metrics_.in_flight.store(messages_.size(), std::memory_order_relaxed);
    room_.give_back(1);
    // Only a stopping route waits for messages to drain; waking it for every message would
    // cost a post each.
    if (stopping_)
        changed_.notify();
}

} // namespace courier::detail
