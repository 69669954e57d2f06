// A counting semaphore for coroutines: the back-pressure between a route's receive
// loop and its handlers (per route) and across routes (the global limit).
//
// `acquire_up_to(n)` waits until at least one permit is free and then takes as many as
// are free, up to n: the receive loop asks the provider for exactly that many messages.
// Waiters are served in order. Thread-safe, because the global semaphore is shared by
// routes running on different strands; waiters are resumed on their own executor.
#ifndef COURIER_DETAIL_ASYNC_SEMAPHORE_HPP
#define COURIER_DETAIL_ASYNC_SEMAPHORE_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>

namespace courier::detail {

class async_semaphore
{
public:
    explicit async_semaphore(std::size_t permits)
        : available_(permits)
    {
    }

    /// Waits for a free permit, then takes up to `most` (>= 1) of them.
    /// Cancellation: any type; throws operation_aborted having taken nothing.
    boost::asio::awaitable<std::size_t> acquire_up_to(std::size_t most)
    {
        using signature = void(boost::system::error_code, std::size_t);
        return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), signature>(
            [this, most](auto handler) { initiate(std::move(handler), most); }, boost::asio::use_awaitable);
    }

    /// Takes up to `most` free permits without waiting (none while others wait).
    std::size_t try_acquire_up_to(std::size_t most)
    {
        std::lock_guard lock(mutex_);
        if (!waiters_.empty())
            return 0;
        const auto granted = std::min(most, available_);
        available_ -= granted;
        return granted;
    }

    void release(std::size_t n)
    {
        if (n == 0)
            return;
        std::lock_guard lock(mutex_);
        available_ += n;
        while (available_ > 0 && !waiters_.empty())
        {
            auto w = waiters_.front();
            waiters_.pop_front();
            w->done = true;
            const auto granted = std::min(w->most, available_);
            available_ -= granted;
            complete(std::move(w), {}, granted);
        }
    }

    std::size_t available() const
    {
        std::lock_guard lock(mutex_);
        return available_;
    }

private:
    // A waiting coroutine. The handler is erased by hand: Asio 1.81's
    // any_completion_handler recurses endlessly when it wraps use_awaitable handlers
    // stored like this (seen as a stack overflow in the dispatcher tests).
    struct waiter
    {
        virtual ~waiter() = default;
        virtual void invoke(boost::system::error_code ec, std::size_t n) = 0;

        std::size_t most = 1;
        boost::asio::any_io_executor executor;
        bool done = false;
        std::list<std::shared_ptr<waiter>>::iterator position;
    };

    template <class Handler> struct waiter_for final : waiter
    {
        explicit waiter_for(Handler h)
            : handler(std::move(h))
        {
        }
        void invoke(boost::system::error_code ec, std::size_t n) override { std::move(handler)(ec, n); }
        Handler handler;
    };

    template <class Handler> void initiate(Handler handler, std::size_t most)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        auto executor = boost::asio::get_associated_executor(handler);
        std::shared_ptr<waiter> w = std::make_shared<waiter_for<Handler>>(std::move(handler));
        w->most = std::max<std::size_t>(most, 1);
        w->executor = std::move(executor);
        std::lock_guard lock(mutex_);
        if (waiters_.empty() && available_ > 0)
        {
            const auto granted = std::min(w->most, available_);
            available_ -= granted;
            complete(std::move(w), {}, granted);
            return;
        }
        w->position = waiters_.insert(waiters_.end(), w);
        if (slot.is_connected())
        {
            // The slot may fire after the waiter was served: `done` tells.
            slot.assign([this, w](boost::asio::cancellation_type) {
                std::lock_guard lock(mutex_);
                if (w->done)
                    return;
                w->done = true;
                waiters_.erase(w->position);
                complete(w, boost::asio::error::operation_aborted, 0);
            });
        }
    }

    // Always posts: completing inline could resume a coroutine while `mutex_` is held.
    static void complete(std::shared_ptr<waiter> w, boost::system::error_code ec, std::size_t n)
    {
        auto executor = w->executor;
        boost::asio::post(executor, [w = std::move(w), ec, n] { w->invoke(ec, n); });
    }

    mutable std::mutex mutex_;
    std::size_t available_;
    std::list<std::shared_ptr<waiter>> waiters_;
};

} // namespace courier::detail

#endif
