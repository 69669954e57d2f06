// The event publisher: how payloads get into a collector queue (the seed's
// EventPublisher).
//
//     auto publisher = queue.get_publisher();
//     ec::payload<reading> p{.value = r};
//     ec::collector_event event = co_await publisher.send(std::move(p));
//
// `send` works from any coroutine, on any executor and any thread. From a thread that
// runs no coroutine: `asio::co_spawn(ex, publisher.send(std::move(p)), asio::use_future).get()`
// with `ex` an executor that is running (the queue's own, `queue.get_executor()`, is).
#ifndef COURIER_COLLECTOR_PUBLISHER_HPP
#define COURIER_COLLECTOR_PUBLISHER_HPP

#include <courier/collector/detail/event_state.hpp>
#include <courier/collector/detail/queue_core.hpp>
#include <courier/collector/event.hpp>
#include <courier/collector/payload.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <utility>

namespace courier::event_collector {

/// Sends payloads of type `T` to one queue. Cheap to copy; keeps the queue's core alive
/// (sending to a queue that stopped fails, it does not crash).
///
/// Thread safety: `send` may be called from any thread, on copies or on one object.
template <class T> class event_publisher
{
public:
    explicit event_publisher(std::shared_ptr<detail::queue_core> core) noexcept
        : core_(std::move(core))
    {
    }

    /// Hands `p` to the queue and returns its event at once, or, when the queue has a
    /// capacity and that many payloads wait, once there is room (payloads of senders
    /// that wait are taken in the order they came). A payload sent before `start()` waits
    /// for it. Resumes on the caller's executor.
    ///
    /// Errors: throws `courier::error` (`errc::queue_stopped`) once the queue is stopping
    /// or stopped; the payload is not taken. Once `send` returned an event, that event
    /// completes, whatever happens to the queue.
    /// Cancellation: any type, while waiting for room; the payload is then not taken.
    boost::asio::awaitable<collector_event> send(payload<T> p) const { return send_to(core_, std::move(p)); }

private:
    // Static, with the core by value: the awaitable may be awaited after this publisher
    // (a temporary, say) is gone.
    static boost::asio::awaitable<collector_event> send_to(std::shared_ptr<detail::queue_core> core, payload<T> p)
    {
        auto node = std::make_shared<detail::event_node<T>>(std::move(p));
        if (!core->try_admit(node))
            co_await core->admit(node);
        co_return collector_event(std::move(node));
    }

    std::shared_ptr<detail::queue_core> core_;
};

} // namespace courier::event_collector

#endif
