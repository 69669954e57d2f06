// The AMQP connection coroutine and its channels' bookkeeping (see connection.hpp);
// consumers and publishing are in amqp/consumer.cpp.
#include "amqp/connection_state.hpp"
#include "broker/url.hpp"
#include "detail/serial_executor.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::amqp {

connection_options parse_url(std::string_view url)
{
    auto a = broker::parse_url(url, "amqp", 5672);
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
    name_ = broker::redacted(a, "amqp");
}

connection::~connection() = default;

void connection::start()
{
    running_ = true;
    asio::co_spawn(
        executor_, [self = shared_from_this()]() { return self->run(); },
        asio::bind_cancellation_slot(stop_.slot(), asio::detached));
}

void connection::stop() noexcept
{
    closing_ = true;
    if (running_)
        stop_.emit(asio::cancellation_type::terminal);
    for (auto& s : subscriptions_)
        s->arrived.finish();
}

asio::awaitable<void> connection::wait_for(detail::async_event& event, courier::clock::time_point deadline)
{
    co_await (event.wait() || clock_->sleep_until(deadline));
    co_await broker::throw_if_cancelled();
}

bool connection::control_ready() const noexcept
{
    return connected_ && control_confirming_ && session_ && session_->channel_open(control_channel);
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
            break;
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
                                     .virtual_host = options_.virtual_host,
                                     .heartbeat = options_.heartbeat,
                                     .frame_max = options_.frame_max,
                                     .channel_max = 2047,
                                     .connection_name = options_.connection_name});
    session_->start();
    auto handshake = [this]() -> asio::awaitable<void> {
        char buffer[4096];
        for (;;)
        {
            if (!session_->output().empty())
            {
                std::string out;
                out.swap(session_->output());
                co_await stream_->write(out);
            }
            if (session_->state() == session_state::open)
                co_return;
            auto n = co_await stream_->read_some(buffer, sizeof buffer);
            session_->on_bytes(std::string_view(buffer, n));
            while (auto e = session_->poll_event())
            {
                if (auto* failed = std::get_if<error_event>(&*e))
                    throw failed->error;
                if (auto* o = std::get_if<opened_event>(&*e))
                {
                    heartbeat_ = o->heartbeat;
                    options_.log.log(log_level::info, "", "", "{}: connected to {} {} (heartbeat {} s, frame_max {})",
                                     name_, o->server_product, o->server_version, heartbeat_.count() / 1000,
                                     o->frame_max);
                }
            }
        }
    };
    auto outcome = co_await (handshake() || clock_->sleep_for(options_.connect_timeout));
    if (outcome.index() == 1)
        throw error(errc::transport_failed, "no AMQP handshake with " + name_ + " within " +
                                                std::to_string(options_.connect_timeout.count()) + " ms");
    ++generation_;
    connected_ = true;
    link_failed_ = false;
    ending_.reset();
    blocked_ = false;
    last_read_ = last_write_ = clock_->now();
    session_->open_channel(control_channel);
    for (auto& s : subscriptions_)
        start_consuming(*s);
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
            co_await never_.wait(); // until cancelled: the writer flushes (close-ok, close) and ends the connection
            throw boost::system::system_error(asio::error::operation_aborted);
        }
        if (!session_->output().empty())
            wake();
    }
}

asio::awaitable<void> connection::writer()
{
    std::string out;
    for (;;)
    {
        session_->write_acks();
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
    if (heartbeat_.count() == 0)
    {
        co_await never_.wait(); // nothing to do until cancelled
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    const auto tick = heartbeat_ / 2;
    for (;;)
    {
        // Woken early by fail_link: a parallel group's cancellation does not reach a clock
        // sleep nested this deep, and a stop would otherwise wait for the next tick.
        co_await wait_for(never_, clock_->now() + tick);
        if (link_failed_)
            throw boost::system::system_error(asio::error::operation_aborted);
        const auto now = clock_->now();
        if (now - last_write_ >= tick)
        {
            session_->heartbeat();
            wake();
        }
        if (now - last_read_ > 2 * heartbeat_)
            throw error(errc::transport_failed,
                        "no heartbeat from " + name_ + " for " + std::to_string(2 * heartbeat_.count()) + " ms");
    }
}

void connection::handle(session_event& e)
{
    std::visit(
        [&](auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, channel_opened_event>)
                on_channel_opened(ev.channel);
            else if constexpr (std::is_same_v<T, channel_closed_event>)
                on_channel_closed(ev.channel, ev.error);
            else if constexpr (std::is_same_v<T, method_ok_event>)
                on_method_ok(ev);
            else if constexpr (std::is_same_v<T, delivery_event>)
                on_delivery(ev);
            else if constexpr (std::is_same_v<T, confirm_event>)
                on_confirm(ev.sequence, ev.ack);
            else if constexpr (std::is_same_v<T, return_event>)
                on_return(ev);
            else if constexpr (std::is_same_v<T, consumer_cancelled_event>)
                on_consumer_cancelled(ev.channel);
            else if constexpr (std::is_same_v<T, blocked_event>)
            {
                blocked_ = true;
                blocked_reason_ = ev.reason;
                options_.log.log(log_level::warning, "", "", "{}: the broker blocks publishing: {}", name_, ev.reason);
                state_event_.notify();
            }
            else if constexpr (std::is_same_v<T, unblocked_event>)
            {
                blocked_ = false;
                options_.log.log(log_level::info, "", "", "{}: the broker unblocked publishing", name_);
                state_event_.notify();
            }
            else if constexpr (std::is_same_v<T, error_event>)
            {
                options_.log.log(log_level::error, "", "", "{}: {}", name_, ev.error.what());
                ending_ = ev.error;
            }
            else if constexpr (std::is_same_v<T, closed_event>)
                ending_ = error(errc::provider_closed, "closed the connection to " + name_);
        },
        e);
}

void connection::drop_connection(const std::exception_ptr& why)
{
    if (why && !closing_)
    {
        try
        {
            std::rethrow_exception(why);
        }
        catch (const std::exception& e)
        {
            options_.log.log(log_level::warning, "", "", "{}: {}: {}", name_,
                             connected_ ? "connection lost" : "cannot connect", e.what());
        }
    }
    if (stream_)
        stream_->close();
    stream_.reset();
    connected_ = false;
    control_confirming_ = false;
    blocked_ = false;
    fail_replies(error(errc::transport_failed, "the connection to " + name_ + " was lost"));
    for (auto& s : subscriptions_)
        reset_consumer(*s, std::nullopt);
    for (auto& [seq, w] : confirms_)
        w->event.notify(); // their publish() sees the epoch change and publishes again
    state_event_.notify();
    written_event_.notify();
    progress_.dropped(std::make_exception_ptr(
        error(errc::transport_failed, "the AMQP connection dropped before the acknowledgement was written")));
}

asio::awaitable<void> connection::close()
{
    if (!closing_)
    {
        closing_ = true;
        if (connected_ && session_ && session_->state() == session_state::open)
        {
            session_->close();
            wake();
            const auto deadline = clock_->now() + options_.connect_timeout;
            while (running_ && connected_ && session_->state() == session_state::closing && clock_->now() < deadline)
                co_await wait_for(state_event_, deadline);
            if (session_->state() == session_state::closed)
                options_.log.log(log_level::info, "", "", "{}: closed (connection.close-ok)", name_);
        }
        if (running_)
            stop_.emit(asio::cancellation_type::terminal);
    }
    while (running_)
    {
        co_await state_event_.wait();
        co_await broker::throw_if_cancelled();
    }
    for (auto& s : subscriptions_)
        s->arrived.finish();
}

} // namespace courier::amqp
