// The workers of a route: each takes ready messages one after the other, runs the route's
// translator and handler, asks the error handler after a failure, and settles the message as
// `plan_settlement` says (see settle.cpp for the provider's side).
#include "core/route_runner.hpp"

#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;

namespace courier::detail {

// A worker: handles ready messages one after the other and settles each. The message's whole
// life is inline here, not in nested coroutines: each nested frame costs an allocation and a
// trip through Asio's coroutine pump.
asio::awaitable<void> route_runner::work(pool::worker& w)
{
    for (;;)
    {
        const auto next = workers_.take();
        if (!next)
        {
            if (workers_.closing())
                co_return;
            co_await workers_.wait(w);
            continue;
        }
        const entry e = *next;
        const message& msg = e->msg;
        handling_result result;
        if (stopping_ || e->give_back)
            log_(log_level::debug, msg, "not started: {}",
                 stopping_ ? "the route stops" : "its FIFO group is delivered again");
        else
        {
            context ctx(msg, route_.name(), log_.underlying(), shared_.blocking_executor);
            log_(log_level::debug, msg, "received (delivery {})", msg.receive_count);
            std::exception_ptr failure;
            const auto started = measure_ ? shared_.clock->now() : clock::time_point{};
            w.handling = true;
            try
            {
                co_await route_.invoke(ctx);
            }
            catch (...)
            {
                failure = std::current_exception();
            }
            w.handling = false;
            const auto took = measure_ ? shared_.clock->now() - started : clock::duration{};
            result = outcome_of(failure, ctx);
            if (!failure && measure_)
                handler_finished(msg, took);
        }
        // Settling must run even though the handler was cancelled (only then is the reset
        // needed; it costs a trip through the coroutine machinery).
        if (w.cancelled)
        {
            co_await asio::this_coro::reset_cancellation_state();
            w.cancelled = false;
        }
        const auto plan = plan_settlement(result, {stopping_, terminal_}, settles_, route_.options().leave_delay);
        if (measure_)
            e->settle_started = shared_.clock->now();
        // An ack confirmed by callback, or a settlement without a provider call, needs no
        // wait: the worker goes on to the next message at once.
        if (!settle_at_once(e, plan))
            co_await call_then_settle(e, plan);
    }
}

// How a started message ended, from what its handler threw (null: it succeeded): counted,
// logged, and the error handler asked about a failure.
handling_result route_runner::outcome_of(std::exception_ptr failure, const context& ctx)
{
    const message& msg = ctx.raw();
    if (!failure)
    {
        ++counters_.handled;
        log_(log_level::debug, msg, "handled");
        return {handling_result::succeeded};
    }
    try
    {
        std::rethrow_exception(failure);
    }
    catch (const delete_message& d)
    {
        log_(log_level::info, msg, "deleted by the handler: {}", d.what());
        return {handling_result::deleted};
    }
    catch (const retry_message& r)
    {
        log_(log_level::info, msg, "retry requested by the handler: {}", r.what());
        return {handling_result::retry_requested, {}, r.delay()};
    }
    catch (const leave_message& l)
    {
        log_(log_level::info, msg, "left by the handler: {}", l.what());
        return {handling_result::failed, error_action::leave()};
    }
    catch (...)
    {
    }
    if (terminal_)
    {
        log_(log_level::warning, msg, "cancelled at shutdown: {}", error_text(failure));
        return {handling_result::cancelled};
    }
    ++counters_.failed;
    if (hooks_.failed)
        call_hook(hooks_.failed, msg, failure);
    return {handling_result::failed, error_handler_decision(ctx, failure)};
}

void route_runner::handler_finished(const message& msg, clock::duration took) noexcept
{
    if (shared_.options.record_metrics)
        metrics_.handler_duration.observe(std::chrono::duration<double>(took).count());
    if (hooks_.handled)
        call_hook(hooks_.handled, msg, std::chrono::duration_cast<std::chrono::nanoseconds>(took));
}

error_action route_runner::error_handler_decision(const context& ctx, std::exception_ptr error)
{
    const auto& on_error = route_.options().on_error;
    if (!on_error)
    {
        ctx.log(log_level::error, "failed (delivery {}): {}; left for redelivery", ctx.raw().receive_count,
                error_text(error, ctx));
        return error_action::leave();
    }
    try
    {
        // The error handler says what it decided (retry_with_backoff does): one line per
        // failure, not two.
        const auto action = on_error(ctx, error);
        ctx.log(log_level::debug, "failed, {} decided by the error handler: {}", to_string(action.what),
                error_text(error, ctx));
        return action;
    }
    catch (const std::exception& e)
    {
        ctx.log(log_level::error, "error handler threw ({}) while handling: {}; message left", e.what(),
                error_text(error, ctx));
    }
    return error_action::leave();
}

} // namespace courier::detail
