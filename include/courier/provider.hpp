// The Provider: where a route's messages come from, and where what became of each one is
// reported.
//
// The dispatcher talks to every queue technology through this one interface. A provider
// implements a small core (receive, ack, release, close) and declares what more its
// transport can do (`provider_capabilities`); the dispatcher adapts to what is declared, so
// an SQS queue, an in-process queue and a message broker run the same routes, handlers and
// error handlers. Operations are virtual awaitables (like Boost.MySQL's engine): providers
// are compiled once and routes never see their internals.
#ifndef COURIER_PROVIDER_HPP
#define COURIER_PROVIDER_HPP

#include <courier/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace courier {

/// What a provider knows about the earlier deliveries of a message it delivers.
enum class redelivery_info
{
    /// Nothing: the dispatcher counts the deliveries of each message id it saw itself
    /// (see `message::receive_count`).
    none,
    /// Whether it was delivered before, and nothing more (AMQP 0-9-1's `redelivered`):
    /// the provider sets `message::redelivered`, the dispatcher counts the rest.
    flag,
    /// The number of deliveries, this one included, in `message::receive_count` (SQS's
    /// ApproximateReceiveCount, RabbitMQ quorum queues' `x-delivery-count`).
    exact_count,
};

/// Capability: a delivery stays hidden from other receivers for a visibility timeout, which
/// can be extended, and comes back by itself when it runs out (SQS, the memory queue).
///
/// Only with it does the dispatcher run a heartbeat for long handlers, and only with it does
/// `settlement::leave` mean "do nothing": without it, the dispatcher holds a left message
/// for `route_options::leave_delay` and then releases it.
class visibility_control
{
public:
    /// How long a delivery stays hidden unless extended (the heartbeat extends every third
    /// of it). Read after `provider::open`.
    virtual std::chrono::milliseconds visibility_timeout() const = 0;

    /// The longest a delivery may stay hidden in total, counted from its receipt (SQS: 12
    /// hours); zero for no limit. The heartbeat's last extension goes exactly to it.
    virtual std::chrono::milliseconds max_visibility() const = 0;

    /// Keeps `msg` hidden for `extension`, counted from now.
    ///
    /// Errors: `errc::stale_receipt` when the delivery is no longer in flight (settled, or
    /// delivered again), `errc::visibility_limit` when the provider refuses to keep it
    /// hidden that long: the heartbeat then stops extending that message.
    virtual boost::asio::awaitable<void> extend(const message& msg, std::chrono::milliseconds extension) = 0;

    /// Tells the provider that the dispatcher settles `msg` by doing nothing: it comes back
    /// when its timeout runs out. No other call for this delivery follows.
    virtual void leave(const message& msg) = 0;

protected:
    ~visibility_control() = default;
};

/// Capability: redelivery after a delay (SQS and the memory queue hide the message for it).
///
/// Without it, a retry after a delay is held by the dispatcher: the message stays in flight
/// (counted against `max_in_flight`), and is released when the delay has passed on
/// `courier::clock`, or at once when the route stops. A broker provider may instead declare
/// it and implement the delay its own way (a retry queue with a TTL and a dead-letter
/// exchange back to the source).
class delayed_retry
{
public:
    /// Makes `msg` available again after `delay` (zero: at once, as `provider::release`).
    virtual boost::asio::awaitable<void> retry(const message& msg, std::chrono::milliseconds delay) = 0;

protected:
    ~delayed_retry() = default;
};

/// Told when an acknowledgement started with `ack_by_callback::start_ack` is over.
class ack_listener
{
public:
    /// `error` is null once the provider confirmed the ack, else what `provider::ack` would
    /// have thrown. Called once, on the executor that called `start_ack`, possibly inside
    /// `start_ack` itself (an in-process queue, or a provider that fails at once).
    virtual void acked(const message& msg, std::exception_ptr error) noexcept = 0;

protected:
    ~ack_listener() = default;
};

/// Capability: acknowledgements confirmed by a callback, so that no coroutine waits for each
/// one. A batching provider (SQS) calls every message's listener when its batch is answered;
/// an in-process queue calls it at once. Without it, the dispatcher awaits `provider::ack`.
class ack_by_callback
{
public:
    /// Starts acknowledging `msg`; calls `listener.acked(msg, error)` when done. `msg` and
    /// `listener` stay alive and unchanged until then. Only called for messages this provider
    /// delivered.
    virtual void start_ack(const message& msg, ack_listener& listener) = 0;

protected:
    ~ack_by_callback() = default;
};

/// What a provider declares beyond its required core. Each pointer, when set, points to the
/// provider itself (which also derives from that capability's interface) and lives as long as
/// it.
struct provider_capabilities
{
    visibility_control* visibility = nullptr;
    delayed_retry* retry = nullptr;
    ack_by_callback* ack_callback = nullptr;
    redelivery_info redelivery = redelivery_info::none;
    /// How long a receive in flight may still take once a stop asked it to end: an SQS long
    /// poll ignores the stop and ends within its wait time; zero when a stop ends it at once.
    /// Only for the log line that says what a stopping route waits for.
    std::chrono::milliseconds receive_wait_at_stop{0};
};

/// A source of messages with acknowledgement: the contract every provider keeps and the
/// dispatcher relies on.
///
/// **Lifecycle.** `open` once, then `receive` as long as the route runs, settling every
/// delivered message, then `close` once after the route's last message was settled.
///
/// **Settlement.** Every delivery the provider hands out is settled exactly once by the
/// dispatcher, with one of:
/// - `ack`: done; the message is deleted and not delivered again;
/// - `release`: given back unhandled, for immediate redelivery (SQS: visibility 0; AMQP:
///   `basic.nack` with requeue; STOMP: `NACK`);
/// - `delayed_retry::retry`, where declared;
/// - `visibility_control::leave`, where declared;
/// - nothing at all, when the dispatcher is stopped at once (`dispatcher::stop_now`) while
///   the call that would settle it cannot be made: the provider's own redelivery brings it
///   back (visibility timeout, or a broker requeueing what a closed connection held).
/// A delivery not settled is never lost: it is redelivered, with a new `receipt`.
///
/// **Errors** are thrown as `courier::error`. A failed `ack` or `release` leaves the message
/// to the provider's redelivery (a duplicate, never a loss).
///
/// **Thread safety.** The dispatcher calls a provider from its route's strand only, but from
/// several coroutines at once (one per message in flight). A provider with an `executor()`
/// of its own gets that as its route's strand. A provider shared between routes or with
/// producers says so itself.
class provider
{
public:
    virtual ~provider() = default;

    /// A short name of the source for logs: a queue name or URL, never credentials.
    virtual std::string name() const = 0;

    /// Called once, before the first `receive`, with the route's `max_in_flight`. A
    /// provider checks its source here and learns what it needs (SQS reads the queue's
    /// visibility timeout; a broker subscribes with that prefetch). Throws `courier::error`
    /// when the source cannot be used; the dispatcher retries with back-off. Default: nothing.
    virtual boost::asio::awaitable<void> open(std::size_t max_in_flight);

    /// Receives between 0 and `max` messages (`max` >= 1), waiting up to the provider's own
    /// wait time when none is there. An empty result is normal.
    ///
    /// Cancellation: a stopping dispatcher asks with total cancellation. A provider honours
    /// it only where giving up loses nothing (the memory queue takes nothing while it waits);
    /// a long poll against a server (SQS) completes within its wait time, and the dispatcher
    /// releases what it brings. Terminal cancellation (`dispatcher::stop_now`) abandons the
    /// wait at once: what a server had already handed to that request comes back by the
    /// provider's own redelivery.
    virtual boost::asio::awaitable<std::vector<message>> receive(std::size_t max) = 0;

    /// Acknowledges `msg`: it is done and is not delivered again. Completes once the provider
    /// confirmed it (batching providers coalesce concurrent calls).
    virtual boost::asio::awaitable<void> ack(const message& msg) = 0;

    /// Gives `msg` back unhandled, for immediate redelivery.
    virtual boost::asio::awaitable<void> release(const message& msg) = 0;

    /// Called once when the route has stopped receiving for good (a stop began and no
    /// receive is in flight any more), while its messages in flight may still be settled,
    /// well before `close`. A provider whose broker pushes messages ahead of `receive` (a
    /// subscription with a prefetch) stops them here and gives back at once what arrived
    /// and no receive took, so another consumer can have it during the shutdown. Must not
    /// throw. Default: nothing.
    virtual void stop_receiving() {}

    /// Flushes what is buffered (acknowledgements) and frees resources.
    virtual boost::asio::awaitable<void> close() = 0;

    /// What this provider can do beyond the core; asked once, after `open`. Default: nothing.
    virtual provider_capabilities capabilities() { return {}; }

    /// The executor the provider must be called on, if it has one: a broker provider's
    /// connection runs its socket, timers and state on one (a strand, on an io_context
    /// that several threads run), and its route then runs there too, so that the two never
    /// touch the connection at once. Asked once, before `open`. Default: none; the route
    /// gets a strand of its own.
    virtual std::optional<boost::asio::any_io_executor> executor() const { return std::nullopt; }
};

} // namespace courier

#endif
