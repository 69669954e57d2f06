// The STOMP connection coroutine, subscriptions and receipted sends (see connection.hpp).
#include "stomp/connection.hpp"

#include "broker/url.hpp"
#include "detail/cancellation.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include <deque>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::stomp {

struct subscription::state
{
    std::string id;
    subscription_options options;
    std::deque<delivery> buffer;
    detail::async_event arrived;
};

struct connection::send_waiter
{
    bool done = false;
    std::optional<courier::error> error;
    detail::async_event event;
};

connection_options parse_url(std::string_view url)
{
    auto a = broker::parse_url(url, "stomp", 61613);
    connection_options o;
    o.host = a.host;
    o.port = a.port;
    if (a.has_user)
    {
        o.login = a.user;
        o.passcode = a.password;
    }
    o.virtual_host = a.virtual_host;
    return o;
}

connection::connection(asio::any_io_executor executor, connection_options options, broker::connector connect)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      connect_(std::move(connect)),
      clock_(options_.clock ? options_.clock : courier::steady_clock())
{
    broker::address a{.host = options_.host, .port = options_.port, .user = options_.login,
                      .password = {}, .has_user = true, .virtual_host = options_.virtual_host};
    name_ = broker::redacted(a, "stomp");
}

connection::~connection() = default;

void connection::start()
{
    running_ = true;
    asio::co_spawn(executor_, [self = shared_from_this()]() { return self->run(); },
                   asio::bind_cancellation_slot(stop_.slot(), asio::detached));
}

std::shared_ptr<subscription> connection::subscribe(subscription_options o)
{
    if (o.prefetch == 0)
        throw error(errc::bad_configuration, "STOMP subscription to " + o.destination
                                                 + ": prefetch must be at least 1 (unlimited is refused)");
    if (o.destination.empty())
        throw error(errc::bad_configuration, "STOMP subscription without a destination");
    auto s = std::make_shared<subscription::state>();
    s->id = "sub-" + std::to_string(next_subscription_++);
    s->options = std::move(o);
    subscriptions_.emplace(s->id, s);
    if (connected_ && session_ && session_->state() == session_state::connected)
    {
        session_->subscribe(s->id, s->options.destination, s->options.prefetch, s->options.headers);
        wake();
    }
    return std::shared_ptr<subscription>(new subscription(shared_from_this(), s));
}

asio::awaitable<void> connection::wait_for(detail::async_event& event, courier::clock::time_point deadline)
{
    co_await (event.wait() || clock_->sleep_until(deadline));
}

asio::awaitable<void> connection::run()
{
    const auto cancellation = co_await asio::this_coro::cancellation_state;
    unsigned attempt = 0;
    while (!closing_)
    {
        std::exception_ptr why;
        try
        {
            co_await connect_once();
            attempt = 0;
            co_await (reader() || writer() || heartbeats());
        }
        catch (...)
        {
            why = std::current_exception();
        }
        // Stopped (terminal cancellation), as opposed to a lost connection.
        const bool cancelled = cancellation.cancelled() != asio::cancellation_type::none;
        drop_connection(why);
        if (closing_ || cancelled)
            break;
        const auto delay = broker::backoff_delay(attempt++, options_.reconnect_delay, options_.reconnect_delay_max);
        options_.log.log(log_level::debug, "", "", "{}: reconnecting in {} ms", name_, delay.count());
        try
        {
            co_await clock_->sleep_for(delay);
        }
        catch (...)
        {
            break; // stopped while waiting
        }
    }
    stopped_ = true;
    running_ = false;
    state_event_.notify();
}

asio::awaitable<void> connection::connect_once()
{
    stream_ = co_await connect_(executor_, options_.host, options_.port, options_.connect_timeout);
    session_.emplace(session_options{.login = options_.login, .passcode = options_.passcode,
                                     .host = options_.virtual_host, .heartbeat_send = options_.heartbeat,
                                     .heartbeat_receive = options_.heartbeat,
                                     .limits = {.max_body_bytes = options_.max_body_bytes}});
    session_->connect();
    std::string out;
    out.swap(session_->output());
    co_await stream_->write(out);
    // Read until CONNECTED, within connect_timeout (on the clock, like every wait here).
    auto handshake = [this]() -> asio::awaitable<void> {
        char buffer[4096];
        for (;;)
        {
            auto n = co_await stream_->read_some(buffer, sizeof buffer);
            session_->on_bytes(std::string_view(buffer, n));
            while (auto e = session_->poll_event())
            {
                if (auto* failed = std::get_if<error_event>(&*e))
                    throw failed->error;
                if (auto* c = std::get_if<connected_event>(&*e))
                {
                    send_every_ = c->send_every;
                    receive_every_ = c->receive_every;
                    options_.log.log(log_level::info, "", "", "{}: connected to {} (heart-beats out {} ms, in {} ms)",
                                     name_, c->server, send_every_.count(), receive_every_.count());
                }
                else
                    throw error(errc::bad_response, "STOMP frame before CONNECTED");
            }
            if (session_->state() == session_state::connected)
                co_return;
        }
    };
    auto outcome = co_await (handshake() || clock_->sleep_for(options_.connect_timeout));
    if (outcome.index() == 1)
        throw error(errc::transport_failed, "no CONNECTED from " + name_ + " within "
                                                + std::to_string(options_.connect_timeout.count()) + " ms");
    ++generation_;
    connected_ = true;
    ending_.reset();
    disconnected_ = false;
    last_read_ = last_write_ = clock_->now();
    for (auto& [id, s] : subscriptions_)
        session_->subscribe(id, s->options.destination, s->options.prefetch, s->options.headers);
    state_event_.notify();
}

asio::awaitable<void> connection::reader()
{
    std::string buffer(64 * 1024, '\0');
    for (;;)
    {
        auto n = co_await stream_->read_some(buffer.data(), buffer.size());
        last_read_ = clock_->now();
        session_->on_bytes(std::string_view(buffer.data(), n));
        while (auto e = session_->poll_event())
            handle(*e);
        if (ending_)
        {
            wake();
            co_await never_.wait(); // the writer flushes and ends the connection
            throw boost::system::system_error(asio::error::operation_aborted);
        }
        if (!session_->output().empty())
            wake();
    }
}

void connection::handle(session_event& e)
{
    if (auto* m = std::get_if<message_event>(&e))
    {
        auto it = subscriptions_.find(m->subscription);
        if (it == subscriptions_.end())
            return; // unsubscribed meanwhile: the broker requeues it when the connection ends
        it->second->buffer.push_back(delivery{generation_, std::move(m->ack_id), m->redelivered, std::move(m->f)});
        it->second->arrived.notify();
    }
    else if (auto* r = std::get_if<receipt_event>(&e))
    {
        if (auto it = sends_.find(r->receipt); it != sends_.end())
        {
            it->second->done = true;
            it->second->event.notify();
        }
    }
    else if (std::get_if<disconnected_event>(&e))
    {
        disconnected_ = true;
        ending_ = error(errc::provider_closed, "disconnected from " + name_);
    }
    else if (auto* f = std::get_if<error_event>(&e))
    {
        options_.log.log(log_level::error, "", "", "{}: {}", name_, f->error.what());
        if (auto it = sends_.find(f->receipt); f->receipt != 0 && it != sends_.end())
        {
            it->second->done = true;
            it->second->error = f->error;
            it->second->event.notify();
        }
        ending_ = f->error;
    }
}

asio::awaitable<void> connection::writer()
{
    std::string out;
    for (;;)
    {
        if (session_->output().empty())
        {
            if (ending_)
                throw *ending_;
            co_await write_event_.wait();
            continue;
        }
        out.clear();
        out.swap(session_->output());
        writing_ = out.size();
        co_await stream_->write(out);
        written_ += writing_;
        writing_ = 0;
        last_write_ = clock_->now();
        written_event_.notify();
    }
}

asio::awaitable<void> connection::heartbeats()
{
    if (send_every_.count() == 0 && receive_every_.count() == 0)
        co_await never_.wait();
    const auto tick = std::min(send_every_.count() ? send_every_ : receive_every_,
                               receive_every_.count() ? receive_every_ : send_every_) / 2;
    for (;;)
    {
        co_await clock_->sleep_for(tick);
        const auto now = clock_->now();
        if (send_every_.count() && now - last_write_ >= send_every_ - tick)
        {
            session_->heartbeat();
            wake();
        }
        if (receive_every_.count() && now - last_read_ > 2 * receive_every_)
            throw error(errc::transport_failed, "no heart-beat from " + name_ + " for "
                                                    + std::to_string(2 * receive_every_.count()) + " ms");
    }
}

void connection::drop_connection(const std::exception_ptr& why)
{
    if (connected_ && !disconnected_ && why && !closing_)
    {
        try
        {
            std::rethrow_exception(why);
        }
        catch (const std::exception& e)
        {
            options_.log.log(log_level::warning, "", "", "{}: connection lost: {}", name_, e.what());
        }
    }
    else if (!connected_ && why && !closing_)
    {
        try
        {
            std::rethrow_exception(why);
        }
        catch (const std::exception& e)
        {
            options_.log.log(log_level::warning, "", "", "{}: cannot connect: {}", name_, e.what());
        }
    }
    if (stream_)
        stream_->close();
    stream_.reset();
    connected_ = false;
    // What was delivered on this connection comes back from the broker: drop the copies.
    for (auto& [id, s] : subscriptions_)
    {
        s->buffer.clear();
        s->arrived.notify();
    }
    for (auto& [receipt, w] : sends_)
        w->event.notify(); // their send() sees the generation change and sends again
    state_event_.notify();
    written_event_.notify();
}

asio::awaitable<void> connection::close()
{
    if (closing_)
    {
        while (running_)
            co_await state_event_.wait();
        co_return;
    }
    closing_ = true;
    if (connected_ && session_ && session_->state() == session_state::connected)
    {
        session_->disconnect();
        wake();
        const auto deadline = clock_->now() + options_.connect_timeout;
        while (running_ && !disconnected_ && clock_->now() < deadline)
            co_await wait_for(state_event_, deadline);
    }
    if (running_)
        stop_.emit(asio::cancellation_type::terminal);
    while (running_)
        co_await state_event_.wait();
    for (auto& [id, s] : subscriptions_)
        s->arrived.notify();
}

void connection::stop() noexcept
{
    closing_ = true;
    if (running_)
        stop_.emit(asio::cancellation_type::terminal);
    for (auto& [id, s] : subscriptions_)
        s->arrived.notify();
}

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
                throw error(errc::transport_failed, "no connection to " + name_ + " within the publish timeout of "
                                                        + std::to_string(options_.publish_timeout.count()) + " ms");
            co_await wait_for(state_event_, deadline);
        }
        send_waiter w;
        const auto generation = generation_;
        const auto receipt = session_->send(destination, body, headers);
        sends_.emplace(receipt, &w);
        wake();
        while (!w.done && generation == generation_ && connected_ && clock_->now() < deadline)
            co_await wait_for(w.event, deadline);
        sends_.erase(receipt);
        if (w.done)
        {
            if (w.error)
                throw *w.error;
            co_return;
        }
        if (clock_->now() >= deadline)
            throw error(errc::transport_failed, "no receipt from " + name_ + " for a SEND to " + destination
                                                    + " within the publish timeout; it may or may not have been delivered");
        options_.log.log(log_level::debug, "", "", "{}: sending to {} again after a reconnect", name_, destination);
    }
}

asio::awaitable<void> connection::settle(const delivery& d, bool positive)
{
    if (d.generation != generation_ || !connected_ || session_->state() != session_state::connected)
        throw error(errc::stale_receipt, "the STOMP connection this message came on is gone; the broker delivers it "
                                         "again, so it is not " + std::string(positive ? "acknowledged" : "released"));
    positive ? session_->ack(d.ack_id) : session_->nack(d.ack_id);
    const std::uint64_t mark = written_ + writing_ + session_->output().size();
    wake();
    const auto generation = generation_;
    while (written_ < mark)
    {
        if (generation != generation_ || !connected_)
            throw error(errc::transport_failed, "the STOMP connection dropped before the "
                                                    + std::string(positive ? "ACK" : "NACK") + " was written");
        co_await written_event_.wait();
    }
}

asio::awaitable<std::vector<delivery>> subscription::receive(std::size_t max, std::chrono::milliseconds wait)
{
    auto& c = *connection_;
    const auto deadline = c.clock_->now() + wait;
    while (state_->buffer.empty())
    {
        if (c.closing_ || c.stopped_)
            throw error(errc::provider_closed, "STOMP connection " + c.name_ + " is closed");
        if (c.clock_->now() >= deadline)
            co_return std::vector<delivery>{};
        co_await c.wait_for(state_->arrived, deadline);
    }
    std::vector<delivery> out;
    while (!state_->buffer.empty() && out.size() < max)
    {
        out.push_back(std::move(state_->buffer.front()));
        state_->buffer.pop_front();
    }
    co_return out;
}

asio::awaitable<void> subscription::ack(const delivery& d)
{
    return connection_->settle(d, true);
}

asio::awaitable<void> subscription::nack(const delivery& d)
{
    return connection_->settle(d, false);
}

const std::string& subscription::id() const noexcept
{
    return state_->id;
}

} // namespace courier::stomp
