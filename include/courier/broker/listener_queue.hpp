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
//
// For a typed event (events/event.hpp) the name and durability come from its declaration:
//
//     {.listener = courier::broker::shared_listener<order_placed>("billing")}
//     {.listener = courier::broker::per_process_listener<price_changed>("price_cache", server_name)}
//
// and the clients' `event_publisher<Event>()` publishes it to its topic.
#ifndef COURIER_BROKER_LISTENER_QUEUE_HPP
#define COURIER_BROKER_LISTENER_QUEUE_HPP

#include <courier/events/event.hpp>

#include <string>
#include <string_view>
#include <utility>

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

/// Listener `listener` of event type `Event`, shared by every process that runs it (they
/// compete for its queue); durable if the event declares `durable`.
template <class Event> listener_queue shared_listener(std::string listener)
{
    const event_descriptor& event = describe_event<Event>();
    return {.event = event.name, .listener = std::move(listener), .durable = event.durable};
}

/// Listener `listener` of event type `Event` in this process alone (eventing's per_process):
/// its queue is named after `server_name`, which must be unique in the cluster; durable if the
/// event declares `durable`.
template <class Event> listener_queue per_process_listener(std::string listener, std::string server_name)
{
    const event_descriptor& event = describe_event<Event>();
    return {.event = event.name,
            .listener = std::move(listener),
            .per_process = true,
            .server_name = std::move(server_name),
            .durable = event.durable};
}

} // namespace courier::broker

#endif
