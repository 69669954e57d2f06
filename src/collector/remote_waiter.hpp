// A coroutine waiting for something another executor completes: a sender waiting for
// room in a collector queue, a caller waiting for an event's results.
//
// The completing side (the queue's executor) and the waiting side (any executor, any
// thread) race: the queue admits or finishes while the waiter's own cancellation slot
// fires. One atomic flag decides who wins; the winner posts the handler to the waiter's
// executor, and the handler's cancellation slot is cleared there, before the handler
// runs: a slot is only ever touched on the executor that emits into it, as Asio requires.
#ifndef COURIER_SRC_COLLECTOR_REMOTE_WAITER_HPP
#define COURIER_SRC_COLLECTOR_REMOTE_WAITER_HPP

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>

namespace courier::event_collector::detail {

/// Completes a stored handler of signature void(Args...) once, from any thread.
template <class... Args> class remote_waiter : public std::enable_shared_from_this<remote_waiter<Args...>>
{
public:
    virtual ~remote_waiter() = default;

    /// Posts `handler(args...)` to the handler's executor unless someone completed it
    /// already; true if this call did.
    bool complete(Args... args)
    {
        bool expected = false;
        if (!claimed_.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
            return false;
        post_result(std::move(args)...);
        return true;
    }

    /// True once completed (or cancelled): a queue skips such waiters.
    bool claimed() const noexcept { return claimed_.load(std::memory_order_acquire); }

    /// Stores `handler`; a cancellation through its slot (any type) completes it with
    /// `cancelled...` and then calls `on_cancelled` (if any), on the cancelling thread.
    template <class Handler>
    static std::shared_ptr<remote_waiter> make(Handler handler, std::function<void()> on_cancelled, Args... cancelled);

protected:
    virtual void post_result(Args... args) = 0;

private:
    std::atomic<bool> claimed_{false};
};

namespace remote_waiter_impl {

template <class Handler, class... Args> class waiter_for final : public remote_waiter<Args...>
{
public:
    explicit waiter_for(Handler h)
        : handler_(std::move(h))
    {
    }

private:
    void post_result(Args... args) override
    {
        auto executor = boost::asio::get_associated_executor(handler_);
        boost::asio::post(executor, [self = std::static_pointer_cast<waiter_for>(this->shared_from_this()),
                                     args = std::make_tuple(std::move(args)...)]() mutable {
            boost::asio::get_associated_cancellation_slot(self->handler_).clear();
            Handler h = std::move(self->handler_);
            std::apply(std::move(h), std::move(args));
        });
    }

    Handler handler_;
};

} // namespace remote_waiter_impl

template <class... Args>
template <class Handler>
std::shared_ptr<remote_waiter<Args...>> remote_waiter<Args...>::make(Handler handler,
                                                                     std::function<void()> on_cancelled,
                                                                     Args... cancelled)
{
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    auto w = std::make_shared<remote_waiter_impl::waiter_for<Handler, Args...>>(std::move(handler));
    // A weak reference: the slot belongs to the waiting coroutine, which the handler in
    // `w` keeps alive; a strong one would make a cycle nobody breaks if the queue drops
    // the waiter unfinished (its io_context destroyed).
    if (slot.is_connected())
        slot.assign([weak = std::weak_ptr<remote_waiter>(w), on_cancelled = std::move(on_cancelled),
                     cancelled = std::make_tuple(std::move(cancelled)...)](boost::asio::cancellation_type) mutable {
            auto alive = weak.lock();
            if (!alive)
                return;
            const bool done =
                std::apply([&](auto&&... a) { return alive->complete(std::move(a)...); }, std::move(cancelled));
            if (done && on_cancelled)
                on_cancelled();
        });
    return w;
}

} // namespace courier::event_collector::detail

#endif
