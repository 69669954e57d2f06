// Coalesces per-message SQS operations (deletes, visibility changes) into batch requests.
//
// `enqueue` puts an entry in the open batch at once; `wait` returns its own result. A batch goes
// out when it holds 10 entries (SQS's limit), when its window has passed since its first
// entry (give or take the timer's latency), or when the owner says nothing more is coming
// (`send_now`); `flush` sends the open batch at once and waits for every batch in flight
// (used by `provider::close`). The window runs on courier::clock.
// Used on one strand only: the route's.
#ifndef COURIER_SRC_SQS_BATCHER_HPP
#define COURIER_SRC_SQS_BATCHER_HPP

#include "detail/async_event.hpp"
#include "detail/stored_handler.hpp"

#include <courier/clock.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace courier::sqs {

template <class Entry> class batcher
{
public:
    static constexpr std::size_t max_entries = 10;

    /// Sends `entries` and stores one result per entry (null = success) in `results`.
    using send_fn = std::function<boost::asio::awaitable<void>(const std::vector<Entry>& entries,
                                                               std::vector<std::exception_ptr>& results)>;

    batcher(boost::asio::any_io_executor executor, std::shared_ptr<courier::clock> clock,
            std::chrono::milliseconds window, send_fn send)
        : executor_(std::move(executor)),
          clock_(std::move(clock)),
          window_(window),
          send_(std::move(send))
    {
    }
    ~batcher()
    {
        *alive_ = false;
        window_wake_.notify();
        // A batch never sent: its waiters are told so. (Its own destructor would not run
        // while they wait, since each waiting coroutine holds its ticket.) Callbacks are
        // dropped, see batch::~batch.
        if (open_)
        {
            const auto aborted =
                std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted));
            for (auto*& w : open_->waiters)
                if (w != nullptr)
                    std::exchange(w, nullptr)->complete(aborted);
        }
    }
    batcher(const batcher&) = delete;
    batcher& operator=(const batcher&) = delete;

    struct batch;
    /// An entry's place: its batch and index there.
    struct ticket
    {
        std::shared_ptr<batch> in;
        std::size_t index;
    };

    /// Told an entry's result instead of a coroutine waiting for it; a lambda of two
    /// references fits std::function's own storage (no allocation).
    using done_fn = std::function<void(std::exception_ptr)>;

    /// Adds `entry` to the open batch (opening one, and starting its window, if needed).
    /// `done`, if given, is called with the entry's result once the batch was sent, on the
    /// batcher's executor (possibly inside this call, if sending fails at once); use
    /// `wait` otherwise.
    ticket enqueue(Entry entry, done_fn done = {})
    {
        if (!open_)
        {
            open_ = std::make_shared<batch>();
            open_->deadline = clock_->now() + window_;
            if (!window_waiting_)
                arm(open_->deadline);
        }
        ticket t{open_, open_->entries.size()};
        open_->entries.push_back(std::move(entry));
        open_->callbacks[t.index] = std::move(done);
        if (open_->entries.size() == max_entries)
            close_open_batch();
        return t;
    }

    /// Returns once the ticket's batch was sent; throws the entry's own error. Not a
    /// coroutine: the batch completes the awaiting coroutine's handler itself, so an entry
    /// costs no frame of its own. Cancellation is not supported (a batch in flight ends
    /// within its request's timeout, and its result must reach the entry either way).
    boost::asio::awaitable<void> wait(ticket t)
    {
        return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(std::exception_ptr)>(
            [t = std::move(t)](auto handler) {
                auto& b = *t.in;
                if (b.sent)
                    result_waiter::store(std::move(handler))->complete(b.results[t.index]);
                else
                    b.waiters[t.index] = result_waiter::store(std::move(handler));
            },
            boost::asio::use_awaitable);
    }

    /// Sends the open batch now, without waiting for its window.
    void send_now() { close_open_batch(); }

    /// Sends the open batch now and waits until no batch is in flight. The window's wait
    /// is ended too, so that it does not keep the io_context running after a stop.
    boost::asio::awaitable<void> flush()
    {
        close_open_batch();
        while (in_flight_ > 0)
            co_await idle_.wait();
        window_wake_.notify();
    }

    using result_waiter = courier::detail::stored_handler<std::exception_ptr>;

    struct batch
    {
        batch() = default;
        batch(const batch&) = delete;
        batch& operator=(const batch&) = delete;
        // A batch never sent (the batcher went away first) drops its callbacks: whoever
        // registered them may be gone by now (the dispatcher destroys a provider only
        // after its route drained, so a running route never gets here). Its waiters were
        // told by ~batcher.
        ~batch() = default;

        // Hands entry i's result to whoever waits for it.
        void finish(std::size_t i, const std::exception_ptr& result)
        {
            if (auto* w = std::exchange(waiters[i], nullptr))
                w->complete(result);
            else if (callbacks[i])
                std::exchange(callbacks[i], done_fn())(result);
        }

        std::vector<Entry> entries;
        std::vector<std::exception_ptr> results;
        std::array<result_waiter*, max_entries> waiters{};
        std::array<done_fn, max_entries> callbacks;
        courier::clock::time_point deadline;
        bool sent = false;
    };

private:
    // One window wait for all batches, started only when none is pending: batches that fill
    // up or are sent early (the common case under load) cost no wait of their own, where a
    // wait per batch cost a start and a cancel each. When the wait ends it sends the open
    // batch if its window has passed, and otherwise waits again for that batch's deadline.
    // `flush` and the destructor end it early through `window_wake_`; the coroutine then
    // touches the batcher only if it is still alive.
    void arm(courier::clock::time_point at)
    {
        window_waiting_ = true;
        boost::asio::co_spawn(executor_, wait_window(alive_, clock_, at), boost::asio::detached);
    }

    // Holds the clock too: the batcher may go away while the wait is pending.
    boost::asio::awaitable<void> wait_window(std::shared_ptr<bool> alive, std::shared_ptr<courier::clock> clock,
                                             courier::clock::time_point at)
    {
        using namespace boost::asio::experimental::awaitable_operators;
        if (!*alive) // gone before this coroutine started
            co_return;
        co_await (window_wake_.wait() || clock->sleep_until(at));
        if (!*alive) // the batcher is gone
            co_return;
        window_waiting_ = false;
        if (!open_)
            co_return;
        if (clock->now() >= open_->deadline)
            close_open_batch();
        else
            arm(open_->deadline);
    }

    void close_open_batch()
    {
        if (!open_)
            return;
        ++in_flight_;
        // Moved out first: run() may start, and even finish, inside co_spawn, and a batch
        // opened meanwhile must stay open.
        auto closing = std::move(open_);
        open_.reset();
        boost::asio::co_spawn(executor_, run(std::move(closing)), boost::asio::detached);
    }

    boost::asio::awaitable<void> run(std::shared_ptr<batch> b)
    {
        b->results.assign(b->entries.size(), nullptr);
        try
        {
            co_await send_(b->entries, b->results);
        }
        catch (...)
        {
            b->results.assign(b->entries.size(), std::current_exception());
        }
        b->sent = true;
        for (std::size_t i = 0; i < b->entries.size(); ++i)
            b->finish(i, b->results[i]);
        --in_flight_;
        idle_.notify();
    }

    boost::asio::any_io_executor executor_;
    std::shared_ptr<courier::clock> clock_;
    std::chrono::milliseconds window_;
    send_fn send_;
    courier::detail::async_event window_wake_; // ends the window's wait early
    bool window_waiting_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::shared_ptr<batch> open_;
    std::size_t in_flight_ = 0;
    courier::detail::async_event idle_;
};

} // namespace courier::sqs

#endif
