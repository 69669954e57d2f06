// broker::deadline_event (see wait.hpp).
#include "broker/wait.hpp"

#include "broker/stream.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;

namespace courier::broker {

struct deadline_event::alarm
{
    courier::clock::time_point at;
    asio::cancellation_signal stop;
    bool disarmed = false; // the event may be gone: the alarm must not touch it
};

deadline_event::deadline_event(std::shared_ptr<courier::clock> clock)
    : clock_(std::move(clock))
{
}

deadline_event::~deadline_event()
{
    disarm();
}

void deadline_event::finish() noexcept
{
    notify();
    disarm();
}

void deadline_event::disarm() noexcept
{
    if (!alarm_)
        return;
    alarm_->disarmed = true;
    alarm_->stop.emit(asio::cancellation_type::terminal);
    alarm_.reset();
}

void deadline_event::arm(const asio::any_io_executor& executor, courier::clock::time_point at)
{
    disarm();
    auto a = std::make_shared<alarm>();
    a->at = at;
    alarm_ = a;
    auto ring = [](deadline_event* self, std::shared_ptr<alarm> a,
                   std::shared_ptr<courier::clock> clock) -> asio::awaitable<void> {
        co_await clock->sleep_until(a->at); // throws once disarmed before it fired
        if (a->disarmed)
            co_return; // fired, but disarmed before it could run
        self->alarm_.reset();
        self->event_.notify();
    };
    auto& stop = a->stop;
    asio::co_spawn(executor, ring(this, std::move(a), clock_),
                   asio::bind_cancellation_slot(stop.slot(), asio::detached));
}

asio::awaitable<void> deadline_event::wait_until(courier::clock::time_point deadline)
{
    if (!alarm_ || alarm_->at > deadline)
    {
        const auto executor = co_await asio::this_coro::executor;
        arm(executor, deadline);
    }
    ++waiting_;
    co_await event_.wait();
    --waiting_;
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
    {
        if (waiting_ == 0)
            disarm();
        throw boost::system::system_error(asio::error::operation_aborted);
    }
}

} // namespace courier::broker
