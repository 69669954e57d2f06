// "Something changed": a coroutine waits, another wakes it. Used on one strand only.
//
// `notify` wakes every pending wait (each resumes through its own executor, never inside
// `notify`), and any number of coroutines may wait. Waiters re-check their condition
// after every wake-up, and check it before waiting without suspending in between, so a
// notify that happens while nobody waits is harmless.
//
// It used to be a steady_timer that never expires (the Beast server-flex-awaitable idiom).
// That puts every wait in the reactor's timer queue, behind its mutex, and re-arms the
// timerfd whenever the queue's earliest entry changes: costs paid several times per
// message on the SQS path (a worker's wake-up, a batch's completion) for a timer that never
// fires. Here a wait is a node in a list and a notify is a post per waiter.
#ifndef COURIER_DETAIL_ASYNC_EVENT_HPP
#define COURIER_DETAIL_ASYNC_EVENT_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <vector>

namespace courier::detail {

class async_event
{
public:
    /// The executor is not used: waiters resume on their own. Kept so that an event is
    /// built like the timer it replaced.
    explicit async_event(const boost::asio::any_io_executor&) {}
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
        // Completing may destroy nothing here (handlers are posted), but a slot handler
        // must not find a waiter that is gone: take them all first.
        auto woken = std::move(waiters_);
        waiters_.clear();
        for (auto* w : woken)
            w->complete();
    }

private:
    struct waiter
    {
        virtual void complete() = 0; // clears the slot, posts the handler, frees the node

    protected:
        ~waiter() = default;
    };

    template <class Handler>
    struct waiter_for final : waiter
    {
        using allocator = boost::asio::recycling_allocator<waiter_for>;

        explicit waiter_for(Handler h) : handler(std::move(h)) {}

        void complete() override
        {
            boost::asio::get_associated_cancellation_slot(handler).clear();
            auto executor = boost::asio::get_associated_executor(handler);
            Handler h = std::move(handler);
            destroy(this);
            boost::asio::post(executor, [h = std::move(h)]() mutable { std::move(h)(); });
        }

        static waiter_for* create(Handler h)
        {
            allocator a;
            auto* p = a.allocate(1);
            try
            {
                return new (p) waiter_for(std::move(h));
            }
            catch (...)
            {
                a.deallocate(p, 1);
                throw;
            }
        }

        static void destroy(waiter_for* w)
        {
            allocator a;
            w->~waiter_for();
            a.deallocate(w, 1);
        }

        Handler handler;
    };

    template <class Handler>
    void start(Handler handler)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto* w = waiter_for<Handler>::create(std::move(handler));
        waiters_.push_back(w);
        if (slot.is_connected())
            slot.assign([this, w](boost::asio::cancellation_type) {
                // Still waiting (a completed waiter has cleared its slot already).
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
