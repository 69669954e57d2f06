// A STOMP 1.2 client: one connection to a broker, kept up by its own coroutine
// (heart-beats, reconnection with backoff, resubscription), and publishers over it.
//
//     courier::stomp::client stomp(io.get_executor(),
//     courier::stomp::parse_url("stomp://guest:guest@127.0.0.1:61613/")); auto orders =
//     stomp.publisher("/queue/orders"); std::string id = co_await orders->publish(std::move(msg));   // returns after
//     the broker's RECEIPT co_await stomp.close();                                     // DISCONNECT with a receipt
//
// Consuming goes through the STOMP provider (a route's provider), which uses the same
// connection.
#ifndef COURIER_STOMP_CLIENT_HPP
#define COURIER_STOMP_CLIENT_HPP

#include <courier/events/event.hpp>
#include <courier/publisher.hpp>
#include <courier/stomp/options.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace courier::stomp {

class connection;

/// How a publisher sends.
struct publisher_options
{
    /// `persistent:true`: the broker writes the message to disk (durable queues keep it
    /// across a restart). Default true.
    bool persistent = true;
    /// `content-type` header; empty: none.
    std::string content_type;
};

/// One STOMP connection.
///
/// \par Thread safety
/// The connection runs on the executor given, or on a strand over it when several threads
/// run its io_context; its providers' routes run there too. Publishers' `publish` and
/// `close` may be awaited from a coroutine on any executor (a handler of another route):
/// they run on the connection's and come back.
///
/// \par Lifetime
/// The connection's coroutine keeps it alive until `close()` (graceful) or the destructor
/// (stops it at once; the broker requeues what was unacknowledged).
class client
{
public:
    /// Starts connecting at once (in the background). Throws `courier::error`
    /// (errc::bad_configuration) for invalid options.
    client(boost::asio::any_io_executor executor, connection_options options);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// A publisher that SENDs to `destination` ("/queue/NAME", "/exchange/NAME/KEY", ...)
    /// with a receipt. `publish` returns the message id courier assigned (the header
    /// `amqp-message-id`, which RabbitMQ keeps as the AMQP message-id property). Attributes
    /// become headers. It refuses (errc::bad_configuration) a group id, deduplication id or
    /// delay, which STOMP cannot carry.
    std::shared_ptr<courier::publisher> publisher(std::string destination, publisher_options options = {});

    /// A publisher of event type `Event` to its topic, `/topic/<name>` (RabbitMQ: `amq.topic`
    /// with the name as routing key, where the listener queues of broker/listener_queue.hpp
    /// are bound, on STOMP and AMQP alike). Persistent if the event declares `durable`; an
    /// event nobody listens to is dropped by the broker, not an error.
    template <class Event> std::shared_ptr<courier::publisher> event_publisher()
    {
        return event_publisher(describe_event<Event>());
    }
    std::shared_ptr<courier::publisher> event_publisher(const event_descriptor& event);

    /// DISCONNECT with a receipt, then stops the connection. Idempotent.
    boost::asio::awaitable<void> close();

    /// The connection (for providers and tests).
    const std::shared_ptr<connection>& connection_ptr() const noexcept { return connection_; }

private:
    std::shared_ptr<connection> connection_;
};

} // namespace courier::stomp

#endif
