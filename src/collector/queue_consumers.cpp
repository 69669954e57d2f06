// A collector queue at work: admitting payloads (waiting for room when it has a
// capacity), consumers taking them in the queue's order and routing them, and the number of
// consumers following the load. Running the chosen collectors is in delivery.cpp.
//
// Scaling policy (documented in collector_queue.hpp): a payload that arrives while no
// consumer is idle (and none is already woken for it) starts a new consumer, up to
// max_consumers; idle consumers wait in a stack, so the most recently idle one is woken
// first and the ones at the bottom stay idle; the scaler stops the bottom one once it
// has been idle for consumer_idle_timeout, down to min_consumers.
#include "collector/queue_impl.hpp"
#include "detail/cancellation.hpp"

#include <courier/collector/errc.hpp>
#include <courier/collector/router.hpp>
#include <courier/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace asio = boost::asio;

namespace courier::event_collector::detail {

std::exception_ptr operation_aborted_error()
{
    return std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
}

// ---- admission ----

bool queue_impl::has_room() const noexcept
{
    return options_.capacity == 0 || queued_.size() < options_.capacity;
}

bool queue_impl::taking_payloads() const noexcept
{
    return phase_ == phase::created || phase_ == phase::starting || phase_ == phase::running;
}

bool queue_impl::try_admit(const std::shared_ptr<event_state>& e)
{
    if (!on_strand_(strand_))
        return false;
    if (!taking_payloads())
        std::rethrow_exception(refused());
    // Senders already waiting for room go first.
    if (!has_room() || !blocked_.empty())
        return false;
    enqueue(e);
    return true;
}

asio::awaitable<void> queue_impl::admit(std::shared_ptr<event_state> e)
{
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
        [self = shared_from_this(), e = std::move(e)](auto handler) mutable {
            // A sender that gives up leaves a dead entry among the blocked ones: drop it now
            // rather than when a consumer next frees room (a stop waits for that list).
            auto prune = [weak = std::weak_ptr<queue_impl>(self)] {
                if (auto s = weak.lock())
                    asio::post(s->strand_, [s] { s->prune_blocked(); });
            };
            auto w = control_waiter::make(std::move(handler), std::move(prune), operation_aborted_error());
            asio::dispatch(self->strand_, [self, e = std::move(e), w = std::move(w)]() mutable {
                self->admit_here(std::move(e), std::move(w));
            });
        },
        asio::use_awaitable);
}

void queue_impl::admit_here(std::shared_ptr<event_state> e, std::shared_ptr<control_waiter> w)
{
    if (w->claimed())
        return; // cancelled on the way here
    if (!taking_payloads())
    {
        w->complete(refused());
        return;
    }
    if (has_room() && blocked_.empty())
    {
        if (w->complete(nullptr))
            enqueue(std::move(e));
        return;
    }
    blocked_.push_back({std::move(e), std::move(w)});
    set(counts_.blocked, blocked_.size());
}

void queue_impl::enqueue(std::shared_ptr<event_state> e)
{
    if (phase_ == phase::created)
        quiet_.store(false, std::memory_order_release); // the destructor must cancel it
    const int priority = e->requested_priority().value_or(options_.default_priority);
    queued_.push(std::move(e), priority);
    bump(counts_.sent);
    set(counts_.queued, queued_.size());
    ensure_consumers();
}

void queue_impl::admit_blocked()
{
    if (blocked_.empty())
        return;
    while (!blocked_.empty() && has_room())
    {
        auto b = std::move(blocked_.front());
        blocked_.pop_front();
        if (b.waiter->complete(nullptr))
            enqueue(std::move(b.event));
    }
    set(counts_.blocked, blocked_.size());
}

void queue_impl::prune_blocked()
{
    std::erase_if(blocked_, [](const blocked_send& b) { return b.waiter->claimed(); });
    set(counts_.blocked, blocked_.size());
    admit_blocked(); // the first live one may fit now
    changed_.notify();
}

void queue_impl::cancel_waiting(const std::exception_ptr& why)
{
    const auto cancel = [&](event_state& e) {
        result* out = e.result_slots(1);
        *out = error(why);
        bump(counts_.cancelled);
        finish(e, std::span<const result>(out, 1));
    };
    for (auto& e : queued_.take_all())
        cancel(*e);
    for (auto& b : std::exchange(blocked_, {}))
        if (b.waiter->complete(nullptr))
        {
            // The sender gets its event: every `send` that returns gets a result.
            bump(counts_.sent);
            cancel(*b.event);
        }
    set(counts_.queued, std::size_t(0));
    set(counts_.blocked, std::size_t(0));
    changed_.notify();
}

// ---- consumers ----

void queue_impl::start_consumers()
{
    for (std::size_t i = 0; i < options_.min_consumers; ++i)
        spawn_consumer();
    if (options_.max_consumers > options_.min_consumers)
    {
        scaler_running_ = true;
        auto ended = [self = shared_from_this()](std::exception_ptr e) {
            if (e && !courier::detail::is_operation_aborted(e))
                self->log_failure("the consumer scaler", e);
            self->scaler_running_ = false;
            self->changed_.notify();
        };
        asio::co_spawn(strand_, scale_down(), asio::bind_cancellation_slot(scaler_cancel_.slot(), std::move(ended)));
    }
    ensure_consumers();
}

void queue_impl::ensure_consumers()
{
    if ((phase_ != phase::running && phase_ != phase::draining) || now_)
        return;
    while (waking_ < queued_.size())
    {
        if (!idle_.empty())
        {
            consumer* c = idle_.back();
            idle_.pop_back();
            wake(*c, true);
        }
        else if (consumers_.size() - retiring_ < options_.max_consumers)
            spawn_consumer();
        else
            return;
    }
}

void queue_impl::spawn_consumer()
{
    auto& c = consumers_.emplace_back();
    c.self = std::prev(consumers_.end());
    c.woken_for_work = true;
    ++waking_;
    set(counts_.consumers, consumers_.size());
    if (consumers_.size() > counts_.peak.load(std::memory_order_relaxed))
        set(counts_.peak, consumers_.size());
    if (consumers_.size() > options_.min_consumers)
        options_.log.log(log_level::debug, options_.name, {}, "consumer added: {} running, at most {}",
                         consumers_.size() - retiring_, options_.max_consumers);
    // Posted: co_spawn would start the consumer right here, inside whoever sent the
    // payload, and run the collectors in the sender's call.
    asio::post(strand_, [self = shared_from_this(), &c] {
        asio::co_spawn(self->strand_, self->consume(c),
                       asio::bind_cancellation_slot(c.cancel.slot(), [self, &c](std::exception_ptr e) {
                           if (e && !courier::detail::is_operation_aborted(e))
                               self->log_failure("a consumer", e);
                           if (c.retire)
                               --self->retiring_;
                           if (c.busy)
                               self->set_busy(c, false);
                           std::erase(self->idle_, &c);
                           self->consumers_.erase(c.self);
                           set(self->counts_.consumers, self->consumers_.size());
                           self->changed_.notify();
                       }));
    });
}

void queue_impl::wake(consumer& c, bool for_work)
{
    if (for_work)
    {
        c.woken_for_work = true;
        ++waking_;
    }
    if (auto* h = std::exchange(c.wakeup, nullptr))
        h->complete();
}

asio::awaitable<void> queue_impl::idle_wait(consumer& c)
{
    return asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [&c](auto handler) { c.wakeup = courier::detail::stored_handler<>::store(std::move(handler)); },
        asio::use_awaitable);
}

void queue_impl::set_busy(consumer& c, bool busy)
{
    c.busy = busy;
    busy ? ++busy_ : --busy_;
    set(counts_.busy, busy_);
}

bool queue_impl::drained() const noexcept
{
    return queued_.empty() && blocked_.empty() && busy_ == 0;
}

asio::awaitable<void> queue_impl::consume(consumer& c)
{
    for (;;)
    {
        if (c.woken_for_work)
        {
            c.woken_for_work = false;
            --waking_;
        }
        // A consumer told to retire leaves even if payloads came meanwhile: those woke or
        // started another, and staying would make one more than max_consumers.
        if (c.retire)
            co_return;
        if (queued_.empty())
        {
            if (closing_ || now_)
                co_return;
            c.idle_since = clock_->now();
            idle_.push_back(&c);
            if (scaler_waiting_ && consumers_.size() - retiring_ > options_.min_consumers)
                scaler_wakeup_.notify();
            co_await idle_wait(c);
            continue;
        }
        const std::shared_ptr<event_state> e = queued_.pop();
        set(counts_.queued, queued_.size());
        admit_blocked();
        set_busy(c, true);
        if (router_)
        {
            result_list list;
            std::exception_ptr failure;
            try
            {
                list = co_await router_(e->payload(), collector_set(*this, *e));
            }
            catch (...)
            {
                failure = cancellation_aware(std::current_exception(), {});
            }
            if (failure)
            {
                result* out = e->result_slots(1);
                *out = error(failure);
                finish(*e, std::span<const result>(out, 1));
            }
            else
                finish(*e, std::move(list));
        }
        else
        {
            select_collectors(collectors_, e->delivery(), e->keys(), e->topics(), c.chosen);
            const auto n = c.chosen.size();
            result* out = n == 0 ? nullptr : e->result_slots(n);
            if (n == 1)
            {
                // Written out rather than through invoke(): one coroutine frame less for the
                // common case of a payload going to one collector.
                const auto& collector = collectors_[c.chosen.front()];
                try
                {
                    *out = co_await collector.process(e->payload(), *collector.context);
                }
                catch (...)
                {
                    *out = error(cancellation_aware(std::current_exception(), collector.key));
                }
                out->set_key(collector.key);
            }
            else if (n > 1)
                co_await run_collectors(e->payload(), c.chosen, out);
            finish(*e, std::span<const result>(out, n));
        }
        set_busy(c, false);
        if (phase_ == phase::draining)
            changed_.notify();
    }
}

asio::awaitable<void> queue_impl::scale_down()
{
    while (!closing_)
    {
        if (consumers_.size() - retiring_ > options_.min_consumers && !idle_.empty())
        {
            consumer* oldest = idle_.front();
            const auto deadline = oldest->idle_since + options_.consumer_idle_timeout;
            if (clock_->now() < deadline)
            {
                // Not interrupted when the oldest is woken meanwhile: the one idle next has
                // a later deadline, so waking early is all that can happen.
                co_await clock_->sleep_until(deadline);
                continue;
            }
            idle_.pop_front();
            oldest->retire = true;
            ++retiring_;
            wake(*oldest, false);
            options_.log.log(log_level::debug, options_.name, {}, "consumer stopped after {} ms idle: {} running",
                             options_.consumer_idle_timeout.count(), consumers_.size() - retiring_);
            continue;
        }
        scaler_waiting_ = true;
        co_await scaler_wakeup_.wait();
        scaler_waiting_ = false;
    }
}

} // namespace courier::event_collector::detail
