// The AMQP 0-9-1 provider: a route consuming one RabbitMQ queue.
//
//     mgr.add_route("orders",
//                   courier::make_amqp_provider(mgr.get_executor(), courier::amqp::parse_url(url), {.queue =
//                   "orders"}), courier::json<order>{}, handle_order);
//
// It subscribes with basic.qos prefetch = the route's `max_in_flight` (never unlimited), so
// the broker pushes at most as many unacknowledged messages as the route has room for;
// `receive` takes what arrived. Acknowledgement is basic.ack after success, release is
// basic.nack with requeue. Delayed retries go through retry queues and poison messages to a
// dead-letter destination (`broker::retry_policy`). When the route stops receiving the
// consumer is cancelled (basic.cancel) and what was delivered but not taken is given back at
// once; `close` waits for what is still being published and, if the provider owns its
// connection, closes it (connection.close).
//
// Declared capabilities: delayed retry; acknowledgement by callback (a basic.ack is confirmed
// once written, as it has no reply); redelivery info `exact_count` on quorum queues
// (`x-delivery-count`), else `flag` (`redelivered`, plus the deliveries counted in
// `x-courier-deliveries` by courier's own retries).
#ifndef COURIER_AMQP_PROVIDER_HPP
#define COURIER_AMQP_PROVIDER_HPP

#include <courier/amqp/client.hpp>
#include <courier/broker/listener_queue.hpp>
#include <courier/broker/retry_policy.hpp>
#include <courier/provider.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace courier::amqp {

/// RabbitMQ's queue types a provider declares.
enum class queue_type
{
    classic,
    quorum, ///< replicated; counts deliveries (`x-delivery-count`); always durable
};

/// What a route consuming an AMQP queue needs.
struct provider_options
{
    /// The queue. Empty with `listener` set: the listener's queue name.
    std::string queue{};
    /// Declare the queue if missing (queue.declare with `durable` and `type`). A queue that
    /// another client declared with other arguments is used as it is (a warning says so).
    /// false: it must exist (a missing one fails `open` with errc::not_found).
    bool declare = true;
    bool durable = true;
    queue_type type = queue_type::classic;
    /// eventing's listener: names the queue (see broker::queue_name), declares it durable or
    /// auto-deleted as the listener says, and binds it to the event on `amq.topic`.
    std::optional<broker::listener_queue> listener{};
    /// basic.qos prefetch-count; 0: the route's max_in_flight (at most 65535).
    std::size_t prefetch = 0;
    /// How long `receive` waits for a first message. A stop ends the wait at once.
    std::chrono::milliseconds wait_time{std::chrono::seconds(20)};
    broker::retry_policy retry{};
    /// RabbitMQ closes a channel whose delivery stayed unacknowledged this long (its
    /// `consumer_timeout`, 30 minutes by default since 3.8.15): its messages go back to the
    /// queue and their acknowledgements fail. A warning is logged once for a message held
    /// for 5/6 of it. 0: no warning.
    std::chrono::milliseconds consumer_timeout{std::chrono::minutes(30)};
};

/// A provider over its own connection (opened now, closed gracefully by `close`).
std::shared_ptr<courier::provider> make_provider(boost::asio::any_io_executor executor, connection_options connection,
                                                 provider_options options);

/// A provider over `client`'s connection, shared with publishers and other providers: its
/// `close` cancels its consumer and leaves the connection open (close the client yourself).
std::shared_ptr<courier::provider> make_provider(std::shared_ptr<client> client, provider_options options);

} // namespace courier::amqp

namespace courier {

/// `amqp::make_provider`, named like `make_sqs_provider`.
inline std::shared_ptr<provider> make_amqp_provider(boost::asio::any_io_executor executor,
                                                    amqp::connection_options connection, amqp::provider_options options)
{
    return amqp::make_provider(std::move(executor), std::move(connection), std::move(options));
}

inline std::shared_ptr<provider> make_amqp_provider(std::shared_ptr<amqp::client> client,
                                                    amqp::provider_options options)
{
    return amqp::make_provider(std::move(client), std::move(options));
}

} // namespace courier

#endif
