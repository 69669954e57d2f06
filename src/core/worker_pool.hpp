// The workers of a route: coroutines that take ready messages one after the other.
//
// Workers are started on demand, at most `max_workers`, and live until the pool closes: a
// message costs no co_spawn, and a handler that completes without suspending costs no post
// either. How many workers are woken adapts to the handlers:
// - while they finish without suspending, one worker runs a whole batch: one wake-up is
//   outstanding at a time, and the worker that takes a message wakes the next one;
// - once a woken worker finds another one suspended in the middle of a message (a handler
//   that waits, or an acknowledgement that waits for its batch), every ready message gets a
//   worker at once: a chain of one wake-up at a time would take one trip through the
//   io_context per message.
// For a batch route each worker takes up to `items_per_worker` messages, so one worker is
// woken per that many ready; a worker holding a batch that is not full may wait for more
// (`wait_for_more`): messages pushed meanwhile go straight into its batch and wake nobody.
// Used on the route's strand only.
#ifndef COURIER_SRC_CORE_WORKER_POOL_HPP
#define COURIER_SRC_CORE_WORKER_POOL_HPP

#include "detail/async_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <optional>
#include <vector>

namespace courier::detail {

template <class Item> class worker_pool
{
public:
    struct worker
    {
        async_event wakeup;                      // notified when it is idle and work arrives
        boost::asio::cancellation_signal cancel; // bound for the worker's whole life
        bool handling = false;                   // inside a handler: a forced stop cancels it
        bool cancelled = false;                  // was cancelled: its state needs a reset
    };

    /// `body(w)` is what each worker runs: take(), wait(w) when nothing is ready, return once
    /// closing(). `exited(error)` is called when a worker's body ended.
    worker_pool(boost::asio::any_io_executor strand, std::size_t max_workers,
                std::function<boost::asio::awaitable<void>(worker&)> body,
                std::function<void(std::exception_ptr)> exited, std::size_t items_per_worker = 1)
        : strand_(std::move(strand)),
          max_workers_(max_workers),
          per_worker_(std::max<std::size_t>(items_per_worker, 1)),
          body_(std::move(body)),
          exited_(std::move(exited))
    {
    }

    /// A message is ready to be taken (by a batch worker waiting for more, if there is one).
    void push(Item item)
    {
        if (collecting_batch_ != nullptr)
        {
            collecting_batch_->push_back(std::move(item));
            if (collecting_batch_->size() >= collect_max_)
                stop_collecting(); // full
            return;
        }
        ready_.push_back(std::move(item));
        wake();
    }

    /// For a worker: the next ready message, if any. Wakes another worker for the rest.
    std::optional<Item> take()
    {
        if (ready_.empty())
            return std::nullopt;
        Item item = std::move(ready_.front());
        ready_.pop_front();
        wake();
        return item;
    }

    /// For a batch worker: moves up to `n` ready messages to the end of `out`. Wakes another
    /// worker for what is left.
    void take_up_to(std::size_t n, std::vector<Item>& out)
    {
        for (; n > 0 && !ready_.empty(); --n)
        {
            out.push_back(std::move(ready_.front()));
            ready_.pop_front();
        }
        wake();
    }

    /// For a worker with nothing to take: waits until woken.
    boost::asio::awaitable<void> wait(worker& w)
    {
        idle_.push_back(&w);
        co_await w.wakeup.wait();
        woken();
    }

    /// For a batch worker whose `batch` holds fewer than `max` messages: tops it up with what
    /// is ready, then waits while messages pushed meanwhile go straight into it, until it is
    /// full, `stop_collecting` is called, or the wait is cancelled (its window has passed).
    boost::asio::awaitable<void> wait_for_more(worker& w, std::vector<Item>& batch, std::size_t max)
    {
        take_up_to(max - std::min(max, batch.size()), batch);
        if (batch.size() >= max || closing_)
            co_return;
        collecting_ = &w;
        collecting_batch_ = &batch;
        collect_max_ = max;
        // However the wait ends (a window that passes cancels it), pushes stop coming here.
        struct done_collecting
        {
            worker_pool& pool;
            worker& w;
            ~done_collecting()
            {
                if (pool.collecting_ == &w)
                {
                    pool.collecting_ = nullptr;
                    pool.collecting_batch_ = nullptr;
                }
            }
        } guard{*this, w};
        co_await w.wakeup.wait();
    }

    /// Ends a `wait_for_more` at once (the route stops).
    void stop_collecting()
    {
        if (collecting_ != nullptr)
            collecting_->wakeup.notify();
        collecting_ = nullptr;
        collecting_batch_ = nullptr;
    }

    /// Workers return once nothing is ready; idle ones are woken to see it.
    void close()
    {
        closing_ = true;
        stop_collecting();
        waking_ += idle_.size();
        for (auto* w : idle_)
            w->wakeup.notify();
        idle_.clear();
    }

    bool closing() const noexcept { return closing_; }
    /// Workers started whose body has not returned yet.
    std::size_t live() const noexcept { return live_; }
    std::size_t ready() const noexcept { return ready_.size(); }

    /// Cancels (terminally) the handlers running now; returns how many.
    std::size_t cancel_running()
    {
        std::size_t n = 0;
        for (auto& w : workers_)
            if (w.handling)
            {
                w.cancelled = true;
                w.cancel.emit(boost::asio::cancellation_type::terminal);
                ++n;
            }
        return n;
    }

private:
    // Gets workers going for the ready messages: idle ones, or new ones while there are fewer
    // than max_workers (the caller never has more messages than that in flight).
    void wake()
    {
        while (waking_ < wanted())
        {
            if (!idle_.empty())
            {
                ++waking_;
                idle_.back()->wakeup.notify();
                idle_.pop_back();
            }
            else if (live_ < max_workers_)
            {
                ++waking_;
                ++live_;
                worker& w = workers_.emplace_back();
                // Posted: co_spawn on the strand we are running on would start the worker right
                // here, nested inside the caller (often another worker), taking messages out of
                // order and deepening the stack with every worker.
                boost::asio::post(strand_, [this, &w] {
                    boost::asio::co_spawn(
                        strand_, run(w),
                        boost::asio::bind_cancellation_slot(w.cancel.slot(), [this](std::exception_ptr e) {
                            --live_;
                            exited_(e);
                        }));
                });
            }
            else
                return;
        }
    }

    // How many workers should be on their way to the ready messages.
    std::size_t wanted() const noexcept
    {
        if (per_worker_ > 1)
            return (ready_.size() + per_worker_ - 1) / per_worker_;
        return wake_all_ ? ready_.size() : std::min<std::size_t>(ready_.size(), 1);
    }

    boost::asio::awaitable<void> run(worker& w)
    {
        woken();
        co_await body_(w);
    }

    // A worker has just been woken (or started): learn from what it finds.
    void woken()
    {
        --waking_;
        if (ready_.empty())
            wake_all_ = false; // the messages were taken inline by a worker already running
        else if (live_ - idle_.size() - waking_ > 1)
            wake_all_ = true; // another worker is suspended in the middle of a message
    }

    boost::asio::any_io_executor strand_;
    std::size_t max_workers_;
    std::size_t per_worker_;
    std::function<boost::asio::awaitable<void>(worker&)> body_;
    std::function<void(std::exception_ptr)> exited_;
    std::deque<Item> ready_;
    std::list<worker> workers_; // stable addresses; destroyed with the pool
    std::vector<worker*> idle_; // waiting on their wakeup
    std::size_t live_ = 0;      // started and not yet returned
    std::size_t waking_ = 0;    // woken or started, not running yet
    bool wake_all_ = false;
    bool closing_ = false;
    worker* collecting_ = nullptr;                  // in wait_for_more
    std::vector<Item>* collecting_batch_ = nullptr; // its batch, which pushes go to
    std::size_t collect_max_ = 0;
};

} // namespace courier::detail

#endif
