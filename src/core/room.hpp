// The room a route has for more messages: its own in-flight limit and, when set, the
// dispatcher's global one. The receive loop takes room before it receives; a message gives
// its room back once settled.
#ifndef COURIER_SRC_CORE_ROOM_HPP
#define COURIER_SRC_CORE_ROOM_HPP

#include "detail/async_semaphore.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>

namespace courier::detail {

class room
{
public:
    /// `global` is null without a global limit.
    room(std::size_t route_limit, async_semaphore* global)
        : route_(route_limit),
          global_(global)
    {
    }

    /// Waits for room for one message, then takes as much as there is, up to `batch`.
    ///
    /// The wait ends when the first slot frees; handlers whose acks were confirmed in the same
    /// batch free theirs right after, but their completions are queued on the io_context
    /// behind this one. Yielding through `yield_to` (the io_context, not the route's strand,
    /// which would run this first) takes those slots too: one full receive, not a receive of
    /// 1 followed by one of 9. When the slots were freed already, no yield is needed (it
    /// costs a trip through the event loop).
    boost::asio::awaitable<std::size_t> take(std::size_t batch, const boost::asio::any_io_executor& yield_to)
    {
        std::size_t taken = co_await route_.acquire_up_to(batch);
        if (taken < batch)
            taken += route_.try_acquire_up_to(batch - taken);
        if (taken < batch)
        {
            co_await boost::asio::post(yield_to, boost::asio::use_awaitable);
            taken += route_.try_acquire_up_to(batch - taken);
        }
        if (global_ == nullptr)
            co_return taken;
        std::size_t granted = 0;
        try
        {
            granted = co_await global_->acquire_up_to(taken);
        }
        catch (...)
        {
            route_.release(taken);
            throw;
        }
        route_.release(taken - granted);
        co_return granted;
    }

    void give_back(std::size_t n)
    {
        route_.release(n);
        if (global_ != nullptr)
            global_->release(n);
    }

private:
    async_semaphore route_;
    async_semaphore* global_;
};

} // namespace courier::detail

#endif
