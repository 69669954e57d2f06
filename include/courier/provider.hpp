// The Provider: where a route's messages come from and where their fate is reported.
//
// The dispatcher talks to every queue technology through this one interface: the
// in-memory provider, Amazon SQS, SNS-over-SQS, and later STOMP/AMQP brokers or an
// in-process collector queue. Operations are virtual awaitables (like Boost.MySQL's
// engine) so providers are compiled once and routes never see their internals.
#ifndef COURIER_PROVIDER_HPP
#define COURIER_PROVIDER_HPP

#include <courier/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <vector>

namespace courier {

/// A source of messages with acknowledgement.
///
/// Contract every implementation keeps (the dispatcher relies on it):
/// - A delivered message stays hidden from other receivers until it is acked, retried,
///   released or its visibility timeout expires; then it is delivered again with a
///   higher `receive_count` and a new `receipt`.
/// - Errors are thrown as `courier::error`.
///
/// Thread safety: the dispatcher calls a provider from its route's strand only, but
/// concurrently from many coroutines (one per message in flight); implementations must
/// allow that. Providers shared between routes or with producers say so themselves.
/// Told when an acknowledgement started with `provider::start_ack` is over.
class ack_listener
{
public:
    /// `error` is null once the provider confirmed the deletion, else what `ack` would
    /// have thrown. Called once per started acknowledgement, on the executor that called
    /// `start_ack`, possibly before `start_ack` returned (a provider that fails at once).
    virtual void acked(const message& msg, std::exception_ptr error) noexcept = 0;

protected:
    ~ack_listener() = default;
};

class provider
{
public:
    virtual ~provider() = default;

    /// A short text naming the source for logs (queue name or URL, never credentials).
    virtual std::string describe() const = 0;

    /// Receives between 0 and `max` messages (`max` >= 1), waiting for up to the
    /// provider's long-poll time when none is available. An empty result is normal.
    ///
    /// Cancellation: the dispatcher asks with total cancellation when it stops. A provider
    /// honours it only where giving up loses nothing (the in-memory queue takes nothing
    /// while it waits); a long poll against a server (SQS) ignores it and completes within
    /// its wait time, and the dispatcher releases what it brings. Terminal cancellation
    /// (`dispatcher::stop_now`) abandons the wait at once: messages a server had already
    /// handed to that request stay hidden until their visibility timeout, then come back.
    /// Either way a message is never lost.
    virtual boost::asio::awaitable<std::vector<message>> receive(std::size_t max) = 0;

    /// Deletes the message: it will not be delivered again. Completes once the provider
    /// confirmed it (batching providers coalesce concurrent calls).
    virtual boost::asio::awaitable<void> ack(const message& msg) = 0;

    /// Deletes the message at once if the provider can without waiting (an in-process
    /// queue) and returns true; returns false, having done nothing, when the dispatcher
    /// must await `ack` instead. Throws like `ack`. Saves an in-process provider a
    /// coroutine frame per message. Default: false.
    virtual bool ack_now(const message& msg)
    {
        (void)msg;
        return false;
    }

    /// Starts deleting the message without a coroutine waiting for it and returns true:
    /// the provider then calls `listener.acked(msg, error)` when it is done, and `msg`
    /// and `listener` must stay alive and unchanged until then. Returns false, having done
    /// nothing, when the dispatcher must await `ack` instead. Lets a batching provider
    /// confirm a whole batch with a call per message rather than by resuming a coroutine
    /// for each. Default: false.
    virtual bool start_ack(const message& msg, ack_listener& listener)
    {
        (void)msg;
        (void)listener;
        return false;
    }

    /// Makes the message visible again after `delay`; zero releases it at once.
    virtual boost::asio::awaitable<void> retry_after(const message& msg,
                                                     std::chrono::milliseconds delay) = 0;

    /// Tells the provider that the dispatcher settles `msg` by doing nothing: it is left to
    /// its visibility timeout (a failure without retry). Batching providers use it to know
    /// that no acknowledgement for it is coming. Default: nothing.
    virtual void leave(const message& msg) { (void)msg; }

    /// Keeps the message hidden for another `extension`, counted from now (the
    /// heartbeat for handlers that outlive the visibility timeout).
    virtual boost::asio::awaitable<void> extend(const message& msg,
                                                std::chrono::milliseconds extension) = 0;

    /// How long a delivery stays hidden; zero if the provider has no such timeout
    /// (then the dispatcher sends no heartbeats).
    virtual std::chrono::milliseconds visibility_timeout() const = 0;

    /// Flushes buffered acknowledgements and frees resources. The dispatcher calls it
    /// once, after the route's last message has been settled.
    virtual boost::asio::awaitable<void> close() = 0;
};

} // namespace courier

#endif
