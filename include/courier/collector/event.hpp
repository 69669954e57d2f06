// The collector event: what `send` gives back for one payload (the seed's CollectorEvent).
//
//     auto event = co_await publisher.send(std::move(p));
//     ec::result_list results = co_await event.wait();   // once every collector is done
//     if (auto r = event.get_result())                   // or poll: nothing until then
//         ...
//
// Every event completes: with the collectors' results, or, after an immediate stop,
// with a cancellation Error. Ignoring it is fine (fire and forget).
#ifndef COURIER_COLLECTOR_EVENT_HPP
#define COURIER_COLLECTOR_EVENT_HPP

#include <courier/collector/detail/event_state.hpp>
#include <courier/collector/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace courier::event_collector {

/// A handle to one payload's outcome. Cheap to copy; copies refer to the same payload.
///
/// Thread safety: every member may be used from any thread, on copies or on one object.
class collector_event
{
public:
    /// An empty handle (what containers and `co_spawn` need): `valid()` is false and
    /// nothing else may be called until a real event is assigned.
    collector_event() = default;
    explicit collector_event(std::shared_ptr<detail::event_state> state) noexcept
        : state_(std::move(state))
    {
    }

    /// False only for a default-constructed handle.
    bool valid() const noexcept { return state_ != nullptr; }

    /// True once every collector the payload went to is done.
    bool done() const noexcept { return state_->done(); }

    /// The results once `done()`; nothing before.
    std::optional<result_list> get_result() const
    {
        if (!state_->done())
            return std::nullopt;
        return state_->results(state_);
    }

    /// Waits until every collector is done, then gives the results. Resumes on the
    /// awaiting coroutine's executor, whichever thread completed the payload.
    ///
    /// Cancellation: any type ends the wait (operation_aborted); the payload is still
    /// processed.
    boost::asio::awaitable<result_list> wait() const;

private:
    std::shared_ptr<detail::event_state> state_;
};

} // namespace courier::event_collector

#endif
