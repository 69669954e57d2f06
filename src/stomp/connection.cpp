// The STOMP connection coroutine (see connection.hpp); subscriptions, acknowledgements and
// receipted sends are in stomp/consumer.cpp.
#include "broker/url.hpp"
#include "detail/serial_executor.hpp"
#include "stomp/connection_state.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/this_coro.hpp>

#include <deque>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::stomp {

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
    : executor_(detail::make_serial(executor)),
      options_(std::move(options)),
      connect_(std::move(connect)),
      clock_(options_.clock ? options_.clock : courier::steady_clock())
{
    broker::address a{.host = options_.host,
                      .port = options_.port,
                      .user = options_.login,
                      .password = {},
                      .has_user = true,
                      .virtual_host = options_.virtual_host};
    name_ = broker::redacted(a, "stomp");
}

connection::~connection() = default;

void connection::start()
{
    running_ = true;
    asio::co_spawn(
        executor_, [self = shared_from_this()]() { return self->run(); },
        asio::bind_cancellation_slot(stop_.slot(), asio::detached));
}

std::shared_ptr<subscription> connection::subscribe(subscription_options o)
{
    if (o.prefetch == 0)
        throw error(errc::bad_configuration,
                    "STOMP subscription to " + o.destination + ": prefetch must be at least 1 (unlimited is refused)");
    if (o.destination.empty())
        throw error(errc::bad_configuration, "STOMP subscription without a destination");
    auto s = std::make_shared<subscription::state>(clock_);
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
    co_await broker::throw_if_cancelled();
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
            co_await (linked(reader()) || linked(writer()) || linked(heartbeats()));
        }
        catch (const asio::multiple_exceptions& e)
        {
            why = e.first_exception(); // the loop that failed first says why
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
    session_.emplace(session_options{.login = options_.login,
                                     .passcode = options_.passcode,
                                     .host = options_.virtual_host,
                                     .heartbeat_send = options_.heartbeat,
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
        throw error(errc::transport_failed, "no CONNECTED from " + name_ + " within " +
                                                std::to_string(options_.connect_timeout.count()) + " ms");
    ++generation_;
    connected_ = true;
    link_failed_ = false;
    ending_.reset();
    disconnected_ = false;
    last_read_ = last_write_ = clock_->now();
    for (auto& [id, s] : subscriptions_)
        if (!s->cancelled)
            session_->subscribe(id, s->options.destination, s->options.prefetch, s->options.headers);
    state_event_.notify();
}

asio::awaitable<void> connection::linked(asio::awaitable<void> part)
{
    try
    {
        co_await std::move(part);
    }
    catch (...)
    {
        fail_link();
        throw;
    }
    fail_link();
}

void connection::fail_link() noexcept
{
    // The other two loops may be waiting on an async_event, which a parallel group's
    // cancellation does not reach inside a nested coroutine: wake them, and close the stream
    // under the reader.
    link_failed_ = true;
    write_event_.notify();
    never_.notify();
    if (stream_)
        stream_->close();
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
            co_await never_.wait(); // until cancelled: the writer flushes and ends the connection
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
            return; // not ours: the broker requeues it when the connection ends
        if (it->second->cancelled)
            return; // sent before the broker saw our UNSUBSCRIBE, which requeues it (a NACK
                    // now would be an ERROR: RabbitMQ knows no such subscription any more)
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
        options_.log.log(f->late_delivery ? log_level::warning : log_level::error, "", "", "{}: {}", name_,
                         f->error.what());
        // The broker names the frame it refuses by its receipt when it had one; RabbitMQ does
        // not for every fault (an unknown destination), and then every SEND still waiting is
        // failed with it: sending them again would only meet the same ERROR until the
        // publish timeout. A late delivery refuses no SEND: those go again after the reconnect.
        for (auto& [receipt, w] : sends_)
            if (!f->late_delivery && (f->receipt == 0 || f->receipt == receipt))
            {
                w->done = true;
                w->error = f->error;
                w->event.notify();
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
            if (link_failed_)
                throw boost::system::system_error(asio::error::operation_aborted);
            continue;
        }
        out.clear();
        out.swap(session_->output());
        progress_.writing(out.size());
        co_await stream_->write(out);
        last_write_ = clock_->now();
        progress_.wrote();
        written_event_.notify();
    }
}

asio::awaitable<void> connection::heartbeats()
{
    if (send_every_.count() == 0 && receive_every_.count() == 0)
    {
        co_await never_.wait(); // nothing to do until cancelled
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    const auto tick = std::min(send_every_.count() ? send_every_ : receive_every_,
                               receive_every_.count() ? receive_every_ : send_every_) /
                      2;
    for (;;)
    {
        // Woken early by fail_link: a parallel group's cancellation does not reach a clock
        // sleep nested this deep, and a stop would otherwise wait for the next tick.
        co_await wait_for(never_, clock_->now() + tick);
        if (link_failed_)
            throw boost::system::system_error(asio::error::operation_aborted);
        const auto now = clock_->now();
        if (send_every_.count() && now - last_write_ >= send_every_ - tick)
        {
            session_->heartbeat();
            wake();
        }
        if (receive_every_.count() && now - last_read_ > 2 * receive_every_)
            throw error(errc::transport_failed,
                        "no heart-beat from " + name_ + " for " + std::to_string(2 * receive_every_.count()) + " ms");
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
    progress_.dropped(std::make_exception_ptr(
        error(errc::transport_failed, "the STOMP connection dropped before the ACK was written")));
}

asio::awaitable<void> connection::close()
{
    if (closing_)
    {
        while (running_)
        {
            co_await state_event_.wait();
            co_await broker::throw_if_cancelled();
        }
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
        if (disconnected_)
            options_.log.log(log_level::info, "", "", "{}: closed (DISCONNECT receipted)", name_);
    }
    if (running_)
        stop_.emit(asio::cancellation_type::terminal);
    while (running_)
    {
        co_await state_event_.wait();
        co_await broker::throw_if_cancelled();
    }
    for (auto& [id, s] : subscriptions_)
        s->arrived.finish();
}

void connection::stop() noexcept
{
    closing_ = true;
    if (running_)
        stop_.emit(asio::cancellation_type::terminal);
    for (auto& [id, s] : subscriptions_)
        s->arrived.finish();
}

} // namespace courier::stomp
