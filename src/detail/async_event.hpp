// "Something changed": a coroutine waits, another wakes it. Used on one strand only.
//
// A steady_timer that never expires serves as the condition variable (the Beast
// server-flex-awaitable idiom): `notify` cancels every pending wait, and any number of
// coroutines may wait. Waiters re-check their condition after every wake-up, and check it
// before waiting without suspending in between, so a notify that happens while nobody
// waits is harmless.
#ifndef COURIER_DETAIL_ASYNC_EVENT_HPP
#define COURIER_DETAIL_ASYNC_EVENT_HPP

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace courier::detail {

class async_event
{
public:
    explicit async_event(const boost::asio::any_io_executor& ex)
        : timer_(ex, boost::asio::steady_timer::time_point::max())
    {
    }

    /// Returns after the next `notify()` (or a cancellation). The expiry is never reset
    /// here: that would cancel the other waiters.
    boost::asio::awaitable<void> wait()
    {
        co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    void notify() { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
};

} // namespace courier::detail

#endif
