// One route's life: receive when there is room, hand each message to a worker
// coroutine that handles and settles it (ack, retry, leave or release), keep long
// handlers' messages hidden, and drain on stop. See dispatcher.hpp for the shutdown contract.
#include "route_runner.hpp"

#include "detail/cancellation.hpp"

#include <courier/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

namespace courier::detail {

route_runner::route_runner(asio::any_io_executor executor, const route& r, const dispatch_shared& shared)
    : inner_(std::move(executor)),
      strand_(make_serial(inner_)),
      route_(r),
      shared_(shared),
      log_(shared.options.log),
      slots_(r.options().max_in_flight)
{
}

void route_runner::stop()
{
    asio::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->changed_.notify();
    });
}

void route_runner::stop_now()
{
    asio::post(strand_, [self = shared_from_this()] {
        self->stopping_ = true;
        self->terminal_ = true;
        // Abandon a receive in flight too (see provider::receive on what that costs).
        self->receive_cancel_.emit(asio::cancellation_type::terminal);
        self->changed_.notify();
    });
}

// Logs an exception that escaped a loop coroutine (should not happen: they catch).
void route_runner::note(std::string_view what, std::exception_ptr error)
{
    if (error && !is_operation_aborted(error))
        log_.log(log_level::error, route_.name(), {}, "{} ended: {}", what, describe(error));
}

asio::awaitable<stop_kind> route_runner::run()
{
    auto self = shared_from_this();
    log_.log(log_level::info, route_.name(), {}, "started on {}", route_.source().describe());
    receiving_ = true;
    asio::co_spawn(strand_, receive_loop(),
                   asio::bind_cancellation_slot(receive_cancel_.slot(), [self](std::exception_ptr e) {
                       self->note("receive loop", e);
                       self->receiving_ = false;
                       self->changed_.notify();
                   }));
    if (route_.options().heartbeat && route_.source().visibility_timeout() > milliseconds::zero())
    {
        heartbeating_ = true;
        asio::co_spawn(strand_, heartbeat_loop(),
                       asio::bind_cancellation_slot(heartbeat_cancel_.slot(), [self](std::exception_ptr e) {
                           self->note("heartbeat loop", e);
                           self->heartbeating_ = false;
                           self->changed_.notify();
                       }));
    }

    while (!stopping_)
        co_await changed_.wait();

    // Phase 1: stop receiving, let handlers finish until the deadline. A receive in
    // flight is cancelled only where that loses nothing (total cancellation; see
    // provider::receive); otherwise it completes within its long-poll time and what it
    // brings is released.
    receive_cancel_.emit(asio::cancellation_type::total);
    log_.log(log_level::info, route_.name(), {}, "stopping: {} message(s) in flight, deadline {} ms",
             entries_.size(), shared_.options.shutdown_deadline.count());
    const auto deadline = shared_.clock->now() + shared_.options.shutdown_deadline;
    auto kind = stop_kind::graceful;
    bool cancelled = false;
    while (receiving_ || !entries_.empty())
    {
        if (terminal_ && !cancelled)
        {
            // Phase 2: cancel what is still running; the workers release those messages.
            log_.log(log_level::warning, route_.name(), {}, "cancelling {} message(s) still in flight",
                     entries_.size());
            for (auto& w : workers_)
                if (w.handling)
                {
                    w.cancelled = true;
                    w.cancel.emit(asio::cancellation_type::terminal);
                }
            cancelled = true;
            kind = stop_kind::cancelled;
        }
        if (terminal_)
            co_await changed_.wait();
        else if ((co_await (changed_.wait() || shared_.clock->sleep_until(deadline))).index() == 1)
        {
            log_.log(log_level::warning, route_.name(), {}, "shutdown deadline passed");
            terminal_ = true;
        }
    }
    closing_ = true;
    waking_ += idle_.size();
    for (auto* w : idle_)
        w->wakeup.notify();
    idle_.clear();
    heartbeat_cancel_.emit(asio::cancellation_type::terminal);
    while (heartbeating_ || live_workers_ != 0)
        co_await changed_.wait();

    try
    {
        co_await route_.source().close();
    }
    catch (const std::exception& e)
    {
        ++route_.mutable_stats().provider_errors;
        log_.log(log_level::error, route_.name(), {}, "closing the provider failed: {}", e.what());
    }
    log_.log(log_level::info, route_.name(), {}, "stopped");
    co_return kind;
}

asio::awaitable<void> route_runner::receive_loop()
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    auto& stats = route_.mutable_stats();
    auto& source = route_.source();
    const auto batch = std::max<std::size_t>(route_.options().receive_batch, 1);
    auto backoff = route_.options().receive_error_backoff;
    while (!stopping_)
    {
        // Back-pressure: ask for only as many messages as there is room for. The wait ends
        // when the first slot frees; the handlers whose acks were confirmed in the same
        // batch free theirs right after, but their completions are queued on the
        // io_context behind this one. Yield through the io_context (not the strand, which
        // would run this first) and take those slots too: one full receive, not a receive
        // of 1 followed by one of 9. Often they were freed already (the wake-up is posted):
        // then there is no need to yield, which costs a trip through the event loop.
        std::size_t room = co_await slots_.acquire_up_to(batch);
        if (room < batch)
            room += slots_.try_acquire_up_to(batch - room);
        if (room < batch)
        {
            co_await asio::post(inner_, asio::use_awaitable);
            room += slots_.try_acquire_up_to(batch - room);
        }
        if (shared_.global_slots != nullptr)
        {
            std::size_t granted = 0;
            try
            {
                granted = co_await shared_.global_slots->acquire_up_to(room);
            }
            catch (...)
            {
                slots_.release(room);
                throw;
            }
            slots_.release(room - granted);
            room = granted;
        }

        std::vector<message> received;
        std::exception_ptr failure;
        try
        {
            received = co_await source.receive(room);
        }
        catch (...)
        {
            failure = std::current_exception();
        }
        release_slots(room - std::min(room, received.size()));
        if (failure)
        {
            if (stopping_ || is_operation_aborted(failure))
                break;
            ++stats.provider_errors;
            log_.log(log_level::warning, route_.name(), {}, "receive failed: {}; retrying in {} ms",
                     describe(failure), backoff.count());
            co_await shared_.clock->sleep_for(backoff);
            backoff = std::min<milliseconds>(backoff * 2, std::chrono::seconds(30));
            continue;
        }
        backoff = route_.options().receive_error_backoff;
        stats.received += received.size();
        // A provider that returns more than asked would break the in-flight bound:
        // hand the surplus straight back.
        while (received.size() > room)
        {
            log_.log(log_level::warning, route_.name(), received.back().id,
                     "provider returned more messages than asked for; releasing the surplus");
            co_await settle(received.back(), {fate::release});
            received.pop_back();
        }
        for (auto& msg : received)
            start(std::move(msg));
    }
}

void route_runner::release_slots(std::size_t n)
{
    slots_.release(n);
    if (shared_.global_slots != nullptr)
        shared_.global_slots->release(n);
}

void route_runner::start(message msg)
{
    if (spare_.empty())
    {
        spare_.emplace_back();
        spare_.back().runner = this;
        spare_.back().self = std::prev(spare_.end());
    }
    const entry e = spare_.begin();
    entries_.splice(entries_.end(), spare_, e); // iterators stay valid across lists
    e->msg = std::move(msg);
    e->received_at = shared_.clock->now();
    auto& peak = route_.mutable_stats().in_flight_peak;
    if (entries_.size() > peak)
        peak = entries_.size();
    if (!e->msg.group_id.empty())
    {
        // FIFO: one message of a group at a time; later ones wait in order.
        auto [group, first] = groups_.try_emplace(e->msg.group_id);
        if (!first)
        {
            group->second.push_back(e);
            return;
        }
    }
    make_ready(e);
}

void route_runner::make_ready(entry e)
{
    ready_.push_back(e);
    wake_worker();
}

// Gets workers going for the ready messages: idle ones, or new ones while there are fewer
// than max_in_flight (ready messages never outnumber free slots, so that is enough).
//
// How many wake-ups may be outstanding adapts to the handlers. While they finish without
// suspending, one worker runs a whole batch, so only one wake-up is outstanding and the
// worker that takes a message wakes the next: waking more would cost a post each for
// nothing. Once a woken worker finds another one suspended in the middle of a message (a
// handler that waits, or an ack that waits for its batch), every ready message gets a
// worker at once: a chain of one wake-up at a time would take one trip through the
// io_context per message.
void route_runner::wake_worker()
{
    const std::size_t wanted = wake_all_ ? ready_.size() : std::min<std::size_t>(ready_.size(), 1);
    while (waking_ < wanted)
    {
        if (!idle_.empty())
        {
            ++waking_;
            idle_.back()->wakeup.notify();
            idle_.pop_back();
        }
        else if (live_workers_ < route_.options().max_in_flight)
        {
            ++waking_;
            ++live_workers_;
            worker& w = workers_.emplace_back();
            // Posted: co_spawn on the strand we are running on would start the worker right
            // here, nested inside the caller (often another worker), taking messages out of
            // order and deepening the stack with every worker.
            asio::post(strand_, [self = shared_from_this(), &w] {
                asio::co_spawn(self->strand_, self->work(w),
                               asio::bind_cancellation_slot(w.cancel.slot(), [self](std::exception_ptr error) {
                                   self->note("worker", error);
                                   --self->live_workers_;
                                   self->changed_.notify();
                               }));
            });
        }
        else
            return;
    }
}

// A worker has just been woken (or started): learn from what it finds.
void route_runner::woken()
{
    --waking_;
    if (ready_.empty())
        wake_all_ = false; // the messages were taken inline by a worker already running
    else if (live_workers_ - idle_.size() - waking_ > 1)
        wake_all_ = true; // another worker is suspended in the middle of a message
}

asio::awaitable<void> route_runner::work(worker& w)
{
    woken();
    for (;;)
    {
        if (ready_.empty())
        {
            if (closing_)
                co_return;
            idle_.push_back(&w);
            co_await w.wakeup.wait();
            woken();
            continue;
        }
        const entry e = ready_.front();
        ready_.pop_front();
        wake_worker();
        // The message's whole life is inline here, not in nested coroutines: each nested
        // frame costs an allocation and a trip through Asio's coroutine pump.
        const message& msg = e->msg;
        auto& stats = route_.mutable_stats();
        fate outcome{fate::release};
        if (stopping_)
            log_.log(log_level::debug, route_.name(), msg.id, "not started before shutdown");
        else
        {
            context ctx(msg, route_.name(), log_, shared_.blocking_executor);
            log_.log(log_level::debug, route_.name(), msg.id, "received (delivery {})", msg.receive_count);
            std::exception_ptr failure;
            w.handling = true;
            try
            {
                co_await route_.invoke(ctx);
                ++stats.handled;
                outcome = {fate::ack};
                log_.log(log_level::debug, route_.name(), msg.id, "handled");
            }
            catch (const delete_message& d)
            {
                outcome = {fate::ack};
                log_.log(log_level::info, route_.name(), msg.id, "deleted by the handler: {}", d.what());
            }
            catch (const retry_message& r)
            {
                outcome = {fate::retry, r.delay()};
                log_.log(log_level::info, route_.name(), msg.id, "retry requested by the handler: {}", r.what());
            }
            catch (...)
            {
                failure = std::current_exception();
            }
            w.handling = false;
            if (failure)
            {
                if (terminal_)
                {
                    outcome = {fate::release};
                    log_.log(log_level::warning, route_.name(), msg.id, "cancelled at shutdown: {}", describe(failure));
                }
                else
                {
                    ++stats.failed;
                    outcome = handle_failure(ctx, failure);
                }
            }
        }
        // Settlement must run even though the handler was cancelled (only then is the
        // reset needed; it costs a trip through the coroutine machinery).
        if (w.cancelled)
        {
            co_await asio::this_coro::reset_cancellation_state();
            w.cancelled = false;
        }
        // settle() written out: awaiting the provider's call directly saves a frame; an
        // ack the provider completes at once, or confirms by callback, saves the wait, and
        // the worker goes on to the next message at once.
        if (outcome.what == fate::leave)
            leave(msg);
        else
        {
            try
            {
                if (outcome.what == fate::ack && route_.source().start_ack(msg, *e))
                    continue; // in_flight::acked settles and finishes it
                if (outcome.what != fate::ack || !route_.source().ack_now(msg))
                    co_await provider_settlement(msg, outcome);
                settled(msg, outcome);
            }
            catch (...)
            {
                settlement_failed(msg, outcome, std::current_exception());
            }
        }
        finish(e);
    }
}

route_runner::fate route_runner::handle_failure(const context& ctx, std::exception_ptr error)
{
    const auto& on_error = route_.options().on_error;
    if (!on_error)
    {
        ctx.log(log_level::error, "failed (delivery {}): {}; left for redelivery after the visibility timeout",
                ctx.raw().receive_count, describe(error));
        return {fate::leave};
    }
    try
    {
        const auto action = on_error(ctx, error);
        switch (action.what)
        {
        case error_action::kind::retry: return {fate::retry, action.delay};
        case error_action::kind::ack:
            ctx.log(log_level::warning, "failed, deleted by the error handler: {}", describe(error));
            return {fate::ack};
        case error_action::kind::leave:
            ctx.log(log_level::warning, "failed, left by the error handler: {}", describe(error));
            return {fate::leave};
        }
    }
    catch (const std::exception& e)
    {
        ctx.log(log_level::error, "error handler threw ({}) while handling: {}; message left",
                e.what(), describe(error));
    }
    return {fate::leave};
}

asio::awaitable<void> route_runner::settle(const message& msg, fate f)
{
    if (f.what == fate::leave)
    {
        leave(msg);
        co_return;
    }
    try
    {
        co_await provider_settlement(msg, f);
        settled(msg, f);
    }
    catch (...)
    {
        settlement_failed(msg, f, std::current_exception());
    }
}

void route_runner::in_flight::acked(const message&, std::exception_ptr error) noexcept
{
    runner->acked(self, std::move(error));
}

void route_runner::acked(entry e, std::exception_ptr error) noexcept
{
    if (error)
        settlement_failed(e->msg, {fate::ack}, std::move(error));
    else
        settled(e->msg, {fate::ack});
    finish(e);
}

// Not a coroutine: returns the provider's own awaitable. `leave` has no provider call
// (callers handle it); it is listed only to keep the switch exhaustive.
asio::awaitable<void> route_runner::provider_settlement(const message& msg, fate f)
{
    auto& source = route_.source();
    switch (f.what)
    {
    case fate::ack: return source.ack(msg);
    case fate::retry: return source.retry_after(msg, f.delay);
    case fate::release:
    case fate::leave: break;
    }
    return source.retry_after(msg, milliseconds::zero());
}

void route_runner::leave(const message& msg)
{
    route_.source().leave(msg);
    ++route_.mutable_stats().left;
}

void route_runner::settled(const message& msg, fate f)
{
    auto& stats = route_.mutable_stats();
    switch (f.what)
    {
    case fate::ack:
        ++stats.acked;
        log_.log(log_level::debug, route_.name(), msg.id, "acked");
        break;
    case fate::retry:
        ++stats.retried;
        log_.log(log_level::debug, route_.name(), msg.id, "retrying in {} ms", f.delay.count());
        break;
    case fate::release:
    case fate::leave:
        ++stats.released;
        log_.log(log_level::info, route_.name(), msg.id, "released for redelivery");
        break;
    }
}

void route_runner::settlement_failed(const message& msg, fate f, std::exception_ptr error)
{
    // The message stays with the provider and comes back after its visibility timeout:
    // at-least-once holds, at the cost of a duplicate.
    ++route_.mutable_stats().provider_errors;
    const char* step = f.what == fate::ack ? "ack" : f.what == fate::retry ? "retry" : "release";
    log_.log(log_level::error, route_.name(), msg.id, "{} failed: {}; the message will be delivered again", step,
             describe(error));
}

void route_runner::finish(entry e)
{
    if (!e->msg.group_id.empty())
    {
        auto group = groups_.find(e->msg.group_id);
        if (group != groups_.end())
        {
            if (group->second.empty())
                groups_.erase(group);
            else
            {
                const entry next = group->second.front();
                group->second.pop_front();
                make_ready(next);
            }
        }
    }
    // Keep the node for the next message: no allocation per message. Its contents go now,
    // so idle spares hold no message bodies; the list never outgrows the peak in flight.
    e->msg = message{};
    spare_.splice(spare_.end(), entries_, e);
    release_slots(1);
    // Only a stopping run() waits for the route to drain; waking it for every message
    // would cost a timer cancellation and a post each.
    if (stopping_)
        changed_.notify();
}

asio::awaitable<void> route_runner::heartbeat_loop()
{
    auto& source = route_.source();
    const auto visibility = source.visibility_timeout();
    const auto interval = std::max<milliseconds>(visibility / 3, milliseconds(1));
    while (receiving_ || !entries_.empty() || !stopping_)
    {
        co_await shared_.clock->sleep_for(interval);
        const auto due = shared_.clock->now() - interval;
        // Copy what to extend: entries may finish while an extension is awaited.
        std::vector<message> extend;
        for (const auto& e : entries_)
            if (e.received_at <= due)
                extend.push_back(message{.id = e.msg.id, .receipt = e.msg.receipt});
        // Concurrently, so a batching provider (SQS) coalesces them into few requests.
        for (auto& msg : extend)
            asio::co_spawn(strand_, extend_one(std::move(msg), visibility), asio::detached);
    }
}

asio::awaitable<void> route_runner::extend_one(message msg, milliseconds visibility)
{
    auto self = shared_from_this();
    std::exception_ptr failure;
    try
    {
        co_await route_.source().extend(msg, visibility);
        ++route_.mutable_stats().heartbeats;
        log_.log(log_level::trace, route_.name(), msg.id, "visibility extended by {} ms", visibility.count());
        co_return;
    }
    catch (...)
    {
        failure = std::current_exception();
    }
    if (is_operation_aborted(failure))
        co_return;
    // An extension racing the message's own ack fails harmlessly; only one for a message
    // still being handled matters (it may be delivered twice).
    const bool still_here = std::any_of(entries_.begin(), entries_.end(),
                                        [&](const in_flight& f) { return f.msg.receipt == msg.receipt; });
    log_.log(still_here ? log_level::warning : log_level::debug, route_.name(), msg.id,
             "extending visibility failed: {}", describe(failure));
}

} // namespace courier::detail
