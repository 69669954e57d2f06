// The STOMP connection's bookkeeping types, shared by stomp/connection.cpp (the coroutine)
// and stomp/consumer.cpp (subscriptions, acknowledgements, sends).
#ifndef COURIER_SRC_STOMP_CONNECTION_STATE_HPP
#define COURIER_SRC_STOMP_CONNECTION_STATE_HPP

#include "broker/delivery_buffer.hpp"
#include "broker/wait.hpp"
#include "stomp/connection.hpp"

namespace courier::stomp {

struct subscription::state
{
    explicit state(std::shared_ptr<courier::clock> clock)
        : arrived(std::move(clock))
    {
    }

    std::string id;
    subscription_options options;
    broker::delivery_buffer<delivery> buffer;
    bool cancelled = false; // subscription::cancel: never subscribed again
    broker::deadline_event arrived;
};

struct connection::send_waiter
{
    bool done = false;
    std::optional<courier::error> error;
    detail::async_event event;
};

} // namespace courier::stomp

#endif
