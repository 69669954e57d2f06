// The AMQP connection's bookkeeping types, shared by amqp/connection.cpp (the coroutine) and
// amqp/consumer.cpp (consumers, declarations, publishing).
#ifndef COURIER_SRC_AMQP_CONNECTION_STATE_HPP
#define COURIER_SRC_AMQP_CONNECTION_STATE_HPP

#include "amqp/connection.hpp"
#include "broker/delivery_buffer.hpp"
#include "broker/wait.hpp"

namespace courier::amqp {

struct subscription::state
{
    explicit state(std::shared_ptr<courier::clock> clock)
        : arrived(std::move(clock))
    {
    }

    subscription_options options;
    std::string consumer_tag;
    std::uint16_t channel = 0; // fixed for the subscription's life
    std::uint64_t epoch = 0;   // of the channel's current opening; 0 while not open
    bool opening = false;      // channel.open sent, open-ok not yet here
    bool consuming = false;    // basic.consume sent on the open channel
    bool cancelled = false;    // subscription::cancel: never consume again
    broker::delivery_buffer<delivery> buffer;
    std::optional<courier::error> error; // thrown once by the next receive
    broker::deadline_event arrived;
};

/// A declaration waiting for its -ok.
struct connection::rpc
{
    bool done = false;
    std::optional<courier::error> error;
    detail::async_event event;
};

struct connection::confirm_waiter
{
    std::string message_id;
    bool done = false;
    bool ack = false;
    std::optional<courier::error> returned;
    detail::async_event event;
};

struct connection::declaration
{
    enum class kind
    {
        exchange,
        queue,
        binding
    } what = kind::exchange;
    exchange_declare_args exchange;
    queue_declare_args queue;
    std::string bind_queue, bind_exchange, routing_key;
    field_table arguments;
};

} // namespace courier::amqp

#endif
