// The bridge from routes to a collector queue: a route handler that hands each message
// (from SQS, the in-memory queue, any provider) to the collectors and acknowledges it
// only if every collector returned Ok.
//
//     mgr.add_route("sensors", source, courier::json<reading>{},
//                   ec::feed_collectors(queue.get_publisher(), to_payload),
//                   {.on_error = on_failure});
//
// For each message the handler builds a payload (`to_payload(value, ctx)`, or a broadcast
// of the value), sends it and waits for its results. All Ok: the handler returns and the
// message is acknowledged. Otherwise it throws `collectors_failed`, so the route's error
// handler gets the message and, in that exception, the failed collectors' keys and
// errors, and decides (retry, ack, leave). A queue that stopped makes `send` throw
// (`errc::queue_stopped`), which goes the same way.
//
// Crash safety: the message stays in its source queue until every collector is done, so
// a crash in between loses nothing; it is delivered again (collectors must therefore be
// idempotent, as handlers are).
#ifndef COURIER_COLLECTOR_ROUTE_BRIDGE_HPP
#define COURIER_COLLECTOR_ROUTE_BRIDGE_HPP

#include <courier/collector/payload.hpp>
#include <courier/collector/publisher.hpp>
#include <courier/collector/result.hpp>
#include <courier/context.hpp>
#include <courier/error.hpp>

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::event_collector {

/// Thrown by a `feed_collectors` handler when a collector returned an Error: its
/// `what()` names each failed collector and its error, with the route and message id.
class collectors_failed : public courier::error
{
public:
    collectors_failed(result_list results, error_context where);

    /// Every result of the payload, Ok ones included.
    const result_list& results() const noexcept { return results_; }
    /// The Error results (each names its collector by `key()`).
    std::vector<result> failures() const { return results_.errors(); }

private:
    result_list results_;
};

/// The `collectors_failed` inside `error` (as an error handler receives it), or null.
/// Valid as long as `error` is.
const collectors_failed* find_collectors_failed(const std::exception_ptr& error) noexcept;

/// Called with each message's results before the handler acknowledges or throws (for
/// logging or metrics).
using results_observer = std::function<void(const courier::context&, const result_list&)>;

namespace detail {

/// Default `to_payload`: the value itself, broadcast.
struct broadcast_value
{
    template <class V> auto operator()(V&& value, const courier::context&) const
    {
        return payload<std::decay_t<V>>{std::forward<V>(value)};
    }
};

/// Sends, waits, decides; compiled once per payload type.
template <class T>
boost::asio::awaitable<void> feed_one(event_publisher<T> publisher, payload<T> p, const courier::context& ctx,
                                      const results_observer& observe)
{
    auto event = co_await publisher.send(std::move(p));
    auto results = co_await event.wait();
    if (observe)
        observe(ctx, results);
    if (!results.all_ok())
        throw collectors_failed(std::move(results), error_context{.route = std::string(ctx.route()),
                                                                  .message_id = std::string(ctx.message_id())});
}

} // namespace detail

/// A route handler feeding `publisher`'s queue: see the top of this file.
///
/// `to_payload(value, ctx)` turns the handler's argument (the translated value, or the
/// raw `courier::message` on a route without translator) into a `payload<T>`. The
/// handler runs on the route's executor; the queue may run on another.
/// Cancellation: a route's immediate stop cancels the wait (the message is released;
/// the payload is still processed).
template <class T, class ToPayload = detail::broadcast_value>
auto feed_collectors(event_publisher<T> publisher, ToPayload to_payload = {}, results_observer observe = {})
{
    return [publisher = std::move(publisher), to_payload = std::move(to_payload),
            observe = std::move(observe)](auto value, courier::context& ctx) -> boost::asio::awaitable<void> {
        payload<T> p = to_payload(std::move(value), std::as_const(ctx));
        return detail::feed_one(publisher, std::move(p), ctx, observe);
    };
}

} // namespace courier::event_collector

#endif
