// eventing's listener queues on a broker: an event is published to a topic named after it,
// and every listener consumes from a queue of its own bound to that topic.
//
// The queue is named `<event>::<listener>`, or `<event>::<listener>-<server>` for a
// `per_process` listener: then every process of a clustered service (each with its own
// server name) gets every event on its own queue, while processes running a listener
// without per_process compete for one queue. A durable event uses a durable queue (it keeps
// events while nobody listens, and across broker restarts) and persistent messages; a
// non-durable one a queue that goes away with its last consumer.
//
// On RabbitMQ the topic is the routing key `<event>` on the `amq.topic` exchange, which is
// also where STOMP's `/topic/<event>` goes: AMQP and STOMP processes share events.
#ifndef COURIER_BROKER_LISTENER_QUEUE_HPP
#define COURIER_BROKER_LISTENER_QUEUE_HPP

#include <string>
#include <string_view>

namespace courier::broker {

/// The exchange events are published to (STOMP: `/topic/<event>`).
inline constexpr std::string_view event_exchange = "amq.topic";

/// One listener of one event.
struct listener_queue
{
    /// The event's name (the topic's routing key).
    std::string event{};
    /// The listener's name.
    std::string listener{};
    /// Every process gets every event, on a queue named after its server.
    bool per_process = false;
    /// This process's name in the cluster (host and port, say); required with per_process.
    std::string server_name{};
    /// A durable queue and persistent messages; otherwise the queue is deleted once its last
    /// consumer is gone.
    bool durable = false;
};

/// `<event>::<listener>` or, per process, `<event>::<listener>-<server_name>`. Throws
/// `courier::error` (errc::bad_configuration) for an empty event or listener, or a
/// per-process listener without a server name.
std::string queue_name(const listener_queue& l);

} // namespace courier::broker

#endif
