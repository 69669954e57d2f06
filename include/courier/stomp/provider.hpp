// The STOMP 1.2 provider: a route consuming one destination of a STOMP broker (RabbitMQ's
// rabbitmq_stomp plugin).
//
//     mgr.add_route("orders",
//                   courier::make_stomp_provider(mgr.get_executor(), courier::stomp::parse_url(url), {.queue =
//                   "orders"}), courier::json<order>{}, handle_order);
//
// It SUBSCRIBEs to `/queue/<queue>` with `ack:client-individual` and `prefetch-count` = the
// route's `max_in_flight` (never unlimited); `receive` takes what arrived. Acknowledgement
// is ACK after success, release is NACK (RabbitMQ requeues it). Delayed retries and
// dead-lettering work as on AMQP (`broker::retry_policy`): the copy is SENT with a receipt to
// `/queue/<queue>.retry.<delay>`, declared by RabbitMQ from the SEND's `x-message-ttl` and
// `x-dead-letter-*` headers. When the route stops receiving it UNSUBSCRIBEs and NACKs what was
// delivered but not taken; `close` waits for what is still being sent and, if the provider
// owns its connection, DISCONNECTs with a receipt.
//
// Declared capabilities: delayed retry; acknowledgement by callback (an ACK is confirmed once
// written, as it has no receipt); redelivery info `exact_count` on quorum queues
// (RabbitMQ passes `x-delivery-count` as a header), else `flag`.
#ifndef COURIER_STOMP_PROVIDER_HPP
#define COURIER_STOMP_PROVIDER_HPP

#include <courier/broker/listener_queue.hpp>
#include <courier/broker/retry_policy.hpp>
#include <courier/provider.hpp>
#include <courier/stomp/client.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace courier::stomp {

/// What a route consuming a STOMP destination needs.
struct provider_options
{
    /// The queue: `/queue/<queue>` (RabbitMQ declares it durable if missing, or uses the
    /// one another client declared). Empty with `listener` set: the listener's queue.
    std::string queue{};
    /// RabbitMQ's `x-queue-type` for a queue it declares: "classic" or "quorum" (quorum
    /// queues count deliveries: `x-delivery-count`).
    std::string queue_type = "classic";
    /// eventing's listener: SUBSCRIBEs to `/topic/<event>` with `x-queue-name` the
    /// listener's queue (see broker::queue_name), durable or auto-deleted as it says.
    std::optional<broker::listener_queue> listener{};
    /// `prefetch-count`; 0: the route's max_in_flight.
    std::size_t prefetch = 0;
    /// How long `receive` waits for a first message. A stop ends the wait at once.
    std::chrono::milliseconds wait_time{std::chrono::seconds(20)};
    broker::retry_policy retry{};
    /// As amqp::provider_options::consumer_timeout: on STOMP, RabbitMQ ends the whole
    /// connection when a delivery outlives it. 0: no warning.
    std::chrono::milliseconds consumer_timeout{std::chrono::minutes(30)};
};

/// A provider over its own connection (opened now, DISCONNECTed with a receipt by `close`).
std::shared_ptr<courier::provider> make_provider(boost::asio::any_io_executor executor, connection_options connection,
                                                 provider_options options);

/// A provider over `client`'s connection, shared with publishers and other providers: its
/// `close` UNSUBSCRIBEs and leaves the connection open.
std::shared_ptr<courier::provider> make_provider(std::shared_ptr<client> client, provider_options options);

} // namespace courier::stomp

namespace courier {

/// `stomp::make_provider`, named like `make_sqs_provider`.
inline std::shared_ptr<provider> make_stomp_provider(boost::asio::any_io_executor executor,
                                                     stomp::connection_options connection,
                                                     stomp::provider_options options)
{
    return stomp::make_provider(std::move(executor), std::move(connection), std::move(options));
}

inline std::shared_ptr<provider> make_stomp_provider(std::shared_ptr<stomp::client> client,
                                                     stomp::provider_options options)
{
    return stomp::make_provider(std::move(client), std::move(options));
}

} // namespace courier

#endif
