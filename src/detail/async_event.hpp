// "Something changed": a coroutine waits, another wakes it. Used on one strand only.
//
// `notify` wakes every pending wait (each resumes through its own executor, never inside
// `notify`), and any number of coroutines may wait. Waiters re-check their condition
// after every wake-up, and check it before waiting without suspending in between, so a
// notify that happens while nobody waits is harmless.
//
// It used to be a steady_timer that never expires (the Beast server-flex-awaitable idiom).
// That puts every wait in the reactor's timer queue, behind its mutex, and re-arms the
// timerfd whenever the queue's earliest entry changes: costs paid for every wake-up of a
// route's worker, for a timer that never fires. Here a wait is a node in a list and a notify is a post per waiter.
#ifndef COURIER_DETAIL_ASYNC_EVENT_HPP
#define COURIER_DETAIL_ASYNC_EVENT_HPP

#include "detail/stored_handler.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <vector>

namespace courier::detail {

class async_event
{
public:
    // Waiters resume on their own executors: the event needs none.
    async_event() = default;
    async_event(const async_event&) = delete;
    async_event& operator=(const async_event&) = delete;
    ~async_event() { notify(); }

    /// Returns after the next `notify()`, or once cancelled through the awaiting
    /// coroutine's cancellation slot (any type). Never throws.
    boost::asio::awaitable<void> wait()
    {
        return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
            [this](auto handler) { start(std::move(handler)); }, boost::asio::use_awaitable);
    }

    void notify()
    {
        // Take them all first: completing clears each waiter's slot, and nothing may find
        // a waiter that is gone.
        auto woken = std::move(waiters_);
        waiters_.clear();
        for (auto* w : woken)
            w->complete();
    }

private:
    using waiter = stored_handler<>;

    template <class Handler> void start(Handler handler)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto* w = waiter::store(std::move(handler));
        waiters_.push_back(w);
        if (slot.is_connected())
            slot.assign([this, w](boost::asio::cancellation_type) {
                // Still waiting (a completed waiter has cleared its slot already). Completing
                // clears the slot, which destroys this very lambda: nothing of it is used
                // after `complete`.
                const auto it = std::find(waiters_.begin(), waiters_.end(), w);
                if (it == waiters_.end())
                    return;
                waiters_.erase(it);
                w->complete();
            });
    }

    std::vector<waiter*> waiters_;
};

} // namespace courier::detail

#endif
