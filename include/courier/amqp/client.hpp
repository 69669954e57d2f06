// An AMQP 0-9-1 client: one connection to a broker, kept up by its own coroutine
// (heartbeats, reconnection with backoff, redeclaration, resubscription), and publishers
// with publisher confirms over it.
//
//     courier::amqp::client amqp(io.get_executor(), courier::amqp::parse_url("amqp://guest:guest@127.0.0.1:5672/"));
//     auto orders = amqp.publisher("", "orders");                  // default exchange, queue "orders"
//     std::string id = co_await orders->publish(std::move(msg));   // returns after the broker's confirm
//     co_await amqp.close();
//
// Consuming goes through the AMQP provider (a route's provider) over the same connection.
#ifndef COURIER_AMQP_CLIENT_HPP
#define COURIER_AMQP_CLIENT_HPP

#include <courier/amqp/options.hpp>
#include <courier/events/event.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace courier::amqp {

class connection;

struct publisher_options
{
    /// delivery-mode 2: the broker writes the message to disk. Default true.
    bool persistent = true;
    /// Unroutable messages fail the publish (basic.return) instead of vanishing. Default true.
    bool mandatory = true;
    /// content-type property; empty: none.
    std::string content_type;
};

/// One AMQP connection.
///
/// \par Thread safety
/// The connection runs on the executor given, or on a strand over it when several threads
/// run its io_context; its providers' routes run there too. Publishers' `publish` and
/// `close` may be awaited from a coroutine on any executor (a handler of another route):
/// they run on the connection's and come back. `blocked()` may be read from any thread.
///
/// \par Lifetime
/// As stomp::client: `close()` is graceful, the destructor stops at once.
class client
{
public:
    /// Starts connecting at once (in the background).
    client(boost::asio::any_io_executor executor, connection_options options);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// A publisher to `exchange` ("" is the default exchange, where the routing key names
    /// the queue) with `routing_key`. `publish` returns the message id courier assigned
    /// (the message-id property) once the broker confirmed the message; it fails with
    /// errc::server_error for an unroutable message (basic.return) or a basic.nack, and waits
    /// while the broker blocks publishing (connection.blocked; `blocked()` says so), up to
    /// the publish timeout (then errc::throttled). Attributes become the headers table. It
    /// refuses (errc::bad_configuration) a group id, deduplication id or delay.
    std::shared_ptr<courier::publisher> publisher(std::string exchange, std::string routing_key,
                                                  publisher_options options = {});

    /// A publisher of event type `Event` to its topic: `amq.topic` with its name as the routing
    /// key, where the listener queues (broker/listener_queue.hpp) are bound. Persistent if the
    /// event declares `durable`; an event nobody listens to is dropped by the broker, not an
    /// error (eventing's send_event). Give it to an event bus: `bus.send_to<E>(amqp.event_publisher<E>())`.
    template <class Event> std::shared_ptr<courier::publisher> event_publisher()
    {
        return event_publisher(describe_event<Event>());
    }
    std::shared_ptr<courier::publisher> event_publisher(const event_descriptor& event);

    /// True while the broker blocks publishing on this connection.
    bool blocked() const noexcept;

    /// connection.close, then stops. Idempotent.
    boost::asio::awaitable<void> close();

    const std::shared_ptr<connection>& connection_ptr() const noexcept { return connection_; }

private:
    std::shared_ptr<connection> connection_;
};

} // namespace courier::amqp

#endif
