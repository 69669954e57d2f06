// broker::ticker (see ticker.hpp).
#include "broker/ticker.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace asio = boost::asio;

namespace courier::broker {

// Shared by the ticker and its coroutine: the signal must outlive the sleep it cancels.
struct ticker::state
{
    asio::cancellation_signal cancel;
    std::function<void()> tick;
};

ticker::~ticker()
{
    stop();
}

void ticker::start(const asio::any_io_executor& executor, std::shared_ptr<courier::clock> clock,
                   std::chrono::milliseconds period, std::function<void()> tick)
{
    stop();
    state_ = std::make_shared<state>();
    state_->tick = std::move(tick);
    auto loop = [](std::shared_ptr<state> s, std::shared_ptr<courier::clock> c,
                   std::chrono::milliseconds p) -> asio::awaitable<void> {
        while (s->tick)
        {
            co_await c->sleep_for(p);
            if (s->tick)
                s->tick();
        }
    };
    asio::co_spawn(executor, loop(state_, std::move(clock), period),
                   asio::bind_cancellation_slot(state_->cancel.slot(), asio::detached));
}

void ticker::stop() noexcept
{
    if (!state_)
        return;
    state_->tick = nullptr;
    state_->cancel.emit(asio::cancellation_type::terminal);
    state_.reset();
}

} // namespace courier::broker
