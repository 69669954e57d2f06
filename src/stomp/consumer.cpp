// STOMP subscriptions, acknowledgements and receipted sends on the connection (see
// connection.hpp).
#include "broker/on_exit.hpp"
#include "broker/wait.hpp"
#include "stomp/connection_state.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>

namespace asio = boost::asio;

namespace courier::stomp {

asio::awaitable<void> connection::send(std::string destination, std::string body, header_list headers)
{
    const auto deadline = clock_->now() + options_.publish_timeout;
    auto self = shared_from_this();
    for (;;)
    {
        while (!connected_ || session_->state() != session_state::connected)
        {
            if (closing_ || stopped_)
                throw error(errc::provider_closed, "STOMP connection " + name_ + " is closed");
            if (clock_->now() >= deadline)
                throw error(errc::transport_failed, "no connection to " + name_ + " within the publish timeout of " +
                                                        std::to_string(options_.publish_timeout.count()) + " ms");
            co_await wait_for(state_event_, deadline);
        }
        send_waiter w;
        const auto generation = generation_;
        const auto receipt = session_->send(destination, body, headers);
        {
            sends_.emplace(receipt, &w);
            broker::on_exit forget([&] { sends_.erase(receipt); });
            wake();
            while (!w.done && generation == generation_ && connected_ && clock_->now() < deadline)
                co_await wait_for(w.event, deadline);
        }
        if (w.done)
        {
            if (w.error)
                throw *w.error;
            co_return;
        }
        if (clock_->now() >= deadline)
            throw error(errc::transport_failed,
                        "no receipt from " + name_ + " for a SEND to " + destination +
                            " within the publish timeout; it may or may not have been delivered");
        options_.log.log(log_level::debug, "", "", "{}: sending to {} again after a reconnect", name_, destination);
    }
}

std::uint64_t connection::queue_settlement(delivery_id d, settle_kind how)
{
    const bool positive = how == settle_kind::ack;
    if (d.generation != generation_ || !connected_ || session_->state() != session_state::connected)
        throw error(errc::stale_receipt, "the STOMP connection this message came on is gone; the broker delivers it "
                                         "again, so it is not " +
                                             std::string(positive ? "acknowledged" : "released"));
    if (positive)
        session_->ack(d.ack_id);
    else
        session_->nack(d.ack_id, how == settle_kind::requeue);
    wake();
    return progress_.mark(session_->output().size());
}

asio::awaitable<void> connection::settle(delivery_id d, settle_kind how)
{
    const auto mark = queue_settlement(d, how);
    const auto generation = generation_;
    while (progress_.written() < mark)
    {
        if (generation != generation_ || !connected_)
            throw error(errc::transport_failed, "the STOMP connection dropped before the " +
                                                    std::string(how == settle_kind::ack ? "ACK" : "NACK") +
                                                    " was written");
        co_await written_event_.wait();
        co_await broker::throw_if_cancelled();
    }
}

asio::awaitable<std::size_t> subscription::wait_for_deliveries(std::chrono::milliseconds wait)
{
    auto& c = *connection_;
    const auto deadline = c.clock_->now() + wait;
    while (state_->buffer.empty())
    {
        if (c.closing_ || c.stopped_)
            throw error(errc::provider_closed, "STOMP connection " + c.name_ + " is closed");
        if (state_->cancelled)
            throw error(errc::provider_closed, "the subscription to " + state_->options.destination + " was cancelled");
        if (c.clock_->now() >= deadline)
            co_return 0;
        co_await state_->arrived.wait_until(deadline);
    }
    co_return state_->buffer.size();
}

delivery& subscription::front()
{
    return state_->buffer.front();
}

void subscription::pop_front()
{
    state_->buffer.pop_front();
}

asio::awaitable<std::vector<delivery>> subscription::receive(std::size_t max, std::chrono::milliseconds wait)
{
    return broker::take_deliveries(*this, max, wait);
}

asio::awaitable<void> subscription::ack(delivery_id d)
{
    return connection_->settle(d, connection::settle_kind::ack);
}

asio::awaitable<void> subscription::nack(delivery_id d, bool requeue)
{
    return connection_->settle(d, requeue ? connection::settle_kind::requeue : connection::settle_kind::drop);
}

void subscription::start_ack(const message& msg, ack_listener& listener, delivery_id (*parse)(const message&))
{
    auto& c = *connection_;
    c.progress_.start_ack([&] { return c.queue_settlement(parse(msg), connection::settle_kind::ack); }, msg, listener);
}

void subscription::give_back_buffered()
{
    auto& c = *connection_;
    auto& s = *state_;
    if (s.cancelled || s.buffer.empty())
        return;
    if (c.connected_ && c.session_ && c.session_->state() == session_state::connected)
    {
        for (const auto& d : s.buffer)
            if (d.generation == c.generation_)
                c.session_->nack(d.ack_id);
        c.wake();
    }
    s.buffer.clear();
}

void subscription::cancel()
{
    auto& c = *connection_;
    auto& s = *state_;
    if (s.cancelled)
        return;
    s.cancelled = true;
    if (c.connected_ && c.session_ && c.session_->state() == session_state::connected)
    {
        // NACKs first: after the UNSUBSCRIBE, RabbitMQ refuses them with an ERROR.
        for (const auto& d : s.buffer)
            if (d.generation == c.generation_)
                c.session_->nack(d.ack_id);
        c.session_->unsubscribe(s.id);
        c.wake();
    }
    s.buffer.clear();
    s.arrived.finish();
}

const std::string& subscription::id() const noexcept
{
    return state_->id;
}

} // namespace courier::stomp
