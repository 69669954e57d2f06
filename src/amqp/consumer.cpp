// AMQP consumers, declarations and confirmed publishing on the connection (see connection.hpp).
#include "amqp/connection_state.hpp"
#include "broker/message_id.hpp"
#include "broker/on_exit.hpp"
#include "broker/wait.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>

namespace asio = boost::asio;

namespace courier::amqp {
namespace {
constexpr std::size_t not_topology = static_cast<std::size_t>(-1);
constexpr int settle_ack = 0, settle_requeue = 1, settle_drop = 2;
} // namespace

std::shared_ptr<subscription> connection::subscribe(subscription_options o)
{
    if (o.queue.empty())
        throw error(errc::bad_configuration, "AMQP subscription without a queue");
    if (o.prefetch == 0 || o.prefetch > 65535)
        throw error(errc::bad_configuration,
                    "AMQP subscription to " + o.queue + ": prefetch must be 1..65535 (unlimited is refused)");
    auto s = std::make_shared<subscription::state>(clock_);
    s->options = std::move(o);
    s->channel = next_channel_++;
    s->consumer_tag = "courier-" + std::to_string(s->channel);
    subscriptions_.push_back(s);
    consumers_.emplace(s->channel, s);
    if (connected_)
        start_consuming(*s);
    return std::shared_ptr<subscription>(new subscription(shared_from_this(), s));
}

void connection::start_consuming(subscription::state& s)
{
    if (!connected_ || !session_ || session_->state() != session_state::open || s.opening || s.cancelled)
        return;
    if (!session_->channel_open(s.channel))
    {
        s.opening = true;
        session_->open_channel(s.channel); // qos and consume follow its open-ok
        wake();
        return;
    }
    if (!s.consuming)
    {
        session_->consume(s.channel, s.options.queue, s.consumer_tag, s.options.arguments);
        s.consuming = true;
        wake();
    }
}

void connection::reset_consumer(subscription::state& s, std::optional<courier::error> e)
{
    s.epoch = 0;
    s.opening = false;
    s.consuming = false;
    s.buffer.clear(); // the broker requeued them with the channel
    if (e)
        s.error = std::move(e);
    s.arrived.notify();
}

void connection::on_channel_opened(std::uint16_t channel)
{
    ++epoch_;
    if (channel == control_channel)
    {
        control_epoch_ = epoch_;
        session_->confirm_select(control_channel);
        replies_.push_back({nullptr, not_topology});
        for (std::size_t i = 0; i < topology_.size(); ++i)
        {
            const auto& d = topology_[i];
            if (d.what == declaration::kind::exchange)
                session_->declare_exchange(control_channel, d.exchange);
            else if (d.what == declaration::kind::queue)
                session_->declare_queue(control_channel, d.queue);
            else
                session_->bind_queue(control_channel, d.bind_queue, d.bind_exchange, d.routing_key, d.arguments);
            replies_.push_back({nullptr, i});
        }
    }
    else if (auto it = consumers_.find(channel); it != consumers_.end())
    {
        auto& s = *it->second;
        s.epoch = epoch_;
        s.opening = false;
        if (s.cancelled)
            return; // cancelled while its channel was opening
        session_->qos(channel, static_cast<std::uint16_t>(s.options.prefetch));
        session_->consume(channel, s.options.queue, s.consumer_tag, s.options.arguments);
        s.consuming = true;
    }
    wake();
}

void connection::on_method_ok(method_ok_event& e)
{
    if (e.channel != control_channel || replies_.empty())
        return; // qos-ok, consume-ok, cancel-ok of consumer channels need nothing
    auto expected = replies_.front();
    replies_.pop_front();
    if (std::holds_alternative<method::confirm_select_ok>(e.reply))
    {
        control_confirming_ = true;
        state_event_.notify();
    }
    if (expected.waiter)
    {
        expected.waiter->done = true;
        expected.waiter->event.notify();
    }
}

void connection::fail_replies(const courier::error& e)
{
    for (auto& r : replies_)
        if (r.waiter)
        {
            r.waiter->done = true;
            r.waiter->error = e;
            r.waiter->event.notify();
        }
    replies_.clear();
}

void connection::on_channel_closed(std::uint16_t channel, const std::optional<courier::error>& e)
{
    if (channel == control_channel)
    {
        // The broker refused the first declaration still waiting for its reply: a
        // redeclaration of ours is dropped from the topology (it would fail every time).
        if (e && !replies_.empty() && !replies_.front().waiter && replies_.front().topology_index != not_topology)
        {
            options_.log.log(log_level::error, "", "", "{}: redeclaring failed, dropped from the topology: {}", name_,
                             e->what());
            topology_.erase(topology_.begin() + static_cast<std::ptrdiff_t>(replies_.front().topology_index));
            replies_.front().waiter = nullptr;
        }
        fail_replies(e ? *e : error(errc::server_error, "channel closed"));
        control_confirming_ = false;
        for (auto& [seq, w] : confirms_)
            w->event.notify(); // publish again on the reopened channel
        if (connected_ && !closing_)
            session_->open_channel(control_channel);
        wake();
        return;
    }
    if (auto it = consumers_.find(channel); it != consumers_.end())
    {
        if (e)
            options_.log.log(log_level::warning, "", "", "{}: consumer of {} closed: {}", name_,
                             it->second->options.queue, e->what());
        reset_consumer(*it->second, e);
    }
}

void connection::on_consumer_cancelled(std::uint16_t channel)
{
    if (auto it = consumers_.find(channel); it != consumers_.end())
    {
        auto& s = *it->second;
        options_.log.log(log_level::warning, "", "", "{}: the broker cancelled the consumer of {}", name_,
                         s.options.queue);
        s.consuming = false;
        s.error = error(errc::server_error, "the broker cancelled the consumer (queue deleted, or its node went down)",
                        {.queue = s.options.queue});
        s.arrived.notify();
    }
}

void connection::on_delivery(delivery_event& e)
{
    auto it = consumers_.find(e.channel);
    if (it == consumers_.end())
        return;
    auto& s = *it->second;
    if (s.cancelled)
    {
        // Sent before the broker saw our basic.cancel: nobody takes it here any more.
        session_->nack(e.channel, e.deliver.delivery_tag, false, true);
        wake();
        return;
    }
    s.buffer.push_back(delivery{s.epoch, e.channel, std::move(e.deliver), std::move(e.props), std::move(e.body)});
    s.arrived.notify();
}

void connection::on_confirm(std::uint64_t sequence, bool ack)
{
    if (auto it = confirms_.find(sequence); it != confirms_.end())
    {
        it->second->done = true;
        it->second->ack = ack;
        it->second->event.notify();
    }
}

void connection::on_return(return_event& e)
{
    // The return comes before the publish's confirm; the message id names the publish.
    for (auto& [seq, w] : confirms_)
        if (e.props.message_id && *e.props.message_id == w->message_id)
        {
            error_context c{.action = "basic.publish",
                            .queue = e.returned.exchange + "/" + e.returned.routing_key,
                            .server_code = std::to_string(e.returned.reply_code),
                            .server_message = e.returned.reply_text};
            w->returned = error(errc::server_error, "the broker returned an unroutable message", std::move(c));
        }
}

asio::awaitable<void> connection::declare_exchange(exchange_declare_args a)
{
    declaration d;
    d.what = declaration::kind::exchange;
    d.exchange = std::move(a);
    co_await declare(std::move(d));
}

asio::awaitable<void> connection::declare_queue(queue_declare_args a)
{
    if (a.queue.empty())
        throw error(errc::bad_configuration, "AMQP queue declaration without a name (a broker-named queue "
                                             "would get another name after every reconnection)");
    declaration d;
    d.what = declaration::kind::queue;
    d.queue = std::move(a);
    co_await declare(std::move(d));
}

asio::awaitable<void> connection::declare_or_use_queue(queue_declare_args a)
{
    const auto name = a.queue;
    try
    {
        co_await declare_queue(std::move(a));
        co_return;
    }
    catch (const courier::error& e)
    {
        if (e.context().server_code != "406")
            throw;
        options_.log.log(log_level::warning, "", "", "{}: queue {} exists with other arguments; using it as it is ({})",
                         name_, name, e.context().server_message);
    }
    queue_declare_args passive{.queue = name, .passive = true};
    co_await declare_queue(std::move(passive));
}

asio::awaitable<void> connection::bind_queue(std::string queue, std::string exchange, std::string routing_key,
                                             field_table arguments)
{
    declaration d;
    d.what = declaration::kind::binding;
    d.bind_queue = std::move(queue);
    d.bind_exchange = std::move(exchange);
    d.routing_key = std::move(routing_key);
    d.arguments = std::move(arguments);
    co_await declare(std::move(d));
}

asio::awaitable<void> connection::declare(declaration d)
{
    const auto deadline = clock_->now() + options_.publish_timeout;
    for (;;)
    {
        while (!control_ready())
        {
            if (closing_ || stopped_)
                throw error(errc::provider_closed, "AMQP connection " + name_ + " is closed");
            if (clock_->now() >= deadline)
                throw error(errc::transport_failed, "no connection to " + name_ + " to declare on");
            co_await wait_for(state_event_, deadline);
        }
        if (d.what == declaration::kind::exchange)
            session_->declare_exchange(control_channel, d.exchange);
        else if (d.what == declaration::kind::queue)
            session_->declare_queue(control_channel, d.queue);
        else
            session_->bind_queue(control_channel, d.bind_queue, d.bind_exchange, d.routing_key, d.arguments);
        rpc waiter;
        replies_.push_back({&waiter, not_topology});
        // Cancelled before the reply: the reply still comes, in its place, to nobody.
        broker::on_exit forget([&] {
            for (auto& r : replies_)
                if (r.waiter == &waiter)
                    r.waiter = nullptr;
        });
        wake();
        while (!waiter.done)
        {
            co_await waiter.event.wait();
            co_await broker::throw_if_cancelled();
        }
        if (!waiter.error)
        {
            topology_.push_back(std::move(d));
            co_return;
        }
        if (waiter.error->code() != make_error_code(errc::transport_failed))
            throw *waiter.error; // the broker refused it
        // The connection went away before the answer: declare again on the next one.
    }
}

asio::awaitable<void> connection::publish(publish_args a)
{
    const auto deadline = clock_->now() + options_.publish_timeout;
    if (!a.props.message_id)
        a.props.message_id = broker::new_message_id();
    for (;;)
    {
        while (!control_ready() || blocked_)
        {
            if (closing_ || stopped_)
                throw error(errc::provider_closed, "AMQP connection " + name_ + " is closed");
            if (clock_->now() >= deadline)
            {
                if (blocked_)
                    throw error(errc::throttled, "the broker blocks publishing (" + blocked_reason_ +
                                                     ") for longer than " +
                                                     std::to_string(options_.publish_timeout.count()) + " ms");
                throw error(errc::transport_failed, "no connection to " + name_ + " within the publish timeout of " +
                                                        std::to_string(options_.publish_timeout.count()) + " ms");
            }
            co_await wait_for(state_event_, deadline);
        }
        confirm_waiter w;
        w.message_id = *a.props.message_id;
        const auto epoch = control_epoch_;
        const auto seq = session_->publish(control_channel, a.exchange, a.routing_key, a.mandatory, a.props, a.body);
        {
            confirms_.emplace(seq, &w);
            broker::on_exit forget([&] { confirms_.erase(seq); });
            wake();
            while (!w.done && epoch == control_epoch_ && control_ready() && clock_->now() < deadline)
                co_await wait_for(w.event, deadline);
        }
        if (w.done)
        {
            if (w.returned)
                throw *w.returned;
            if (!w.ack)
                throw error(errc::server_error, "the broker refused the message (basic.nack)",
                            {.action = "basic.publish", .queue = a.exchange + "/" + a.routing_key});
            co_return;
        }
        if (clock_->now() >= deadline)
            throw error(errc::transport_failed, "no confirm from " + name_ +
                                                    " within the publish timeout; the "
                                                    "message may or may not have been delivered");
        options_.log.log(log_level::debug, "", "", "{}: publishing {} again after a reconnect", name_, w.message_id);
    }
}

std::uint64_t connection::queue_settlement(const delivery& d, int how)
{
    auto it = consumers_.find(d.channel);
    if (!connected_ || it == consumers_.end() || it->second->epoch != d.epoch || d.epoch == 0 ||
        !session_->channel_open(d.channel))
        throw error(errc::stale_receipt, "the AMQP channel this message came on is gone; the broker delivers it "
                                         "again, so it is not settled");
    if (how == settle_ack)
    {
        // Written by the writer's next take of the output (session::write_acks), which then
        // holds more than what is queued now.
        session_->ack(d.channel, d.deliver.delivery_tag);
        wake();
        return progress_.mark(session_->output().size()) + 1;
    }
    session_->nack(d.channel, d.deliver.delivery_tag, false, how == settle_requeue);
    wake();
    return progress_.mark(session_->output().size());
}

asio::awaitable<void> connection::settle(const delivery& d, int how)
{
    const auto mark = queue_settlement(d, how);
    const auto generation = generation_;
    while (progress_.written() < mark)
    {
        if (generation != generation_ || !connected_)
            throw error(errc::transport_failed, "the AMQP connection dropped before the acknowledgement was written");
        co_await written_event_.wait();
        co_await broker::throw_if_cancelled();
    }
}

asio::awaitable<std::size_t> subscription::wait_for_deliveries(std::chrono::milliseconds wait)
{
    auto& c = *connection_;
    auto& s = *state_;
    const auto deadline = c.clock_->now() + wait;
    while (s.buffer.empty())
    {
        if (c.closing_ || c.stopped_)
            throw error(errc::provider_closed, "AMQP connection " + c.name_ + " is closed");
        if (s.cancelled)
            throw error(errc::provider_closed, "the consumer of " + s.options.queue + " was cancelled");
        if (s.error)
        {
            auto e = std::move(*s.error);
            s.error.reset();
            throw e;
        }
        c.start_consuming(s); // after a broker-side cancel or channel close
        if (c.clock_->now() >= deadline)
            co_return 0;
        co_await s.arrived.wait_until(deadline);
    }
    co_return s.buffer.size();
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

asio::awaitable<void> subscription::ack(const delivery& d)
{
    return connection_->settle(d, settle_ack);
}

asio::awaitable<void> subscription::nack(const delivery& d, bool requeue)
{
    return connection_->settle(d, requeue ? settle_requeue : settle_drop);
}

void subscription::start_ack(const message& msg, ack_listener& listener, delivery (*parse)(const message&))
{
    auto& c = *connection_;
    c.progress_.start_ack([&] { return c.queue_settlement(parse(msg), settle_ack); }, msg, listener);
}

void subscription::cancel()
{
    auto& c = *connection_;
    auto& s = *state_;
    if (s.cancelled)
        return;
    s.cancelled = true;
    const bool open = c.connected_ && c.session_ && c.session_->state() == session_state::open && s.epoch != 0 &&
                      c.session_->channel_open(s.channel);
    if (open && s.consuming)
        c.session_->cancel(s.channel, s.consumer_tag);
    s.consuming = false;
    for (const auto& d : s.buffer)
        if (open && d.epoch == s.epoch)
            c.session_->nack(d.channel, d.deliver.delivery_tag, false, true);
    s.buffer.clear();
    c.wake();
    s.arrived.finish();
}

} // namespace courier::amqp
