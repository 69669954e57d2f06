// broker::wait_until (see wait.hpp).
#include "broker/wait.hpp"

#include "broker/stream.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace courier::broker {

namespace {

asio::awaitable<void> open_to_total_cancellation(asio::awaitable<void> a)
{
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await std::move(a);
}

} // namespace

asio::awaitable<void> wait_until(detail::async_event& event, courier::clock& clock, courier::clock::time_point deadline)
{
    co_await (open_to_total_cancellation(event.wait()) || open_to_total_cancellation(clock.sleep_until(deadline)));
    co_await throw_if_cancelled();
}

} // namespace courier::broker
