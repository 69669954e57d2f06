// A route's part of the graceful shutdown (see dispatcher.hpp for the contract).
#include "core/route_runner.hpp"

#include <courier/error.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

namespace courier::detail {

// The two-phase shutdown. Phase 1: stop receiving, let handlers finish until the deadline. A
// receive in flight is cancelled only where that loses nothing (total cancellation; see
// provider::receive); otherwise it completes within its long-poll time and what it brings is
// released. Phase 2 (stop_now, or the deadline): cancel what still runs; those messages are
// released. Then the workers and the heartbeat end, and the provider is closed.
asio::awaitable<stop_kind> route_runner::shut_down()
{
    if (!permanent_failure_)
        metrics_.state = metrics::route_state::stopping;
    receive_cancel_.emit(asio::cancellation_type::total);
    log_(log_level::info, "stopping: {} message(s) in flight, deadline {} ms", messages_.size(),
         shared_.options.shutdown_deadline.count());
    if (receiving_ && capabilities_.receive_wait_at_stop > milliseconds::zero())
        log_(log_level::info,
             "waiting for the receive in flight: a long poll ends within {} s, and what it brings is "
             "released",
             std::chrono::ceil<std::chrono::seconds>(capabilities_.receive_wait_at_stop).count());
    const auto deadline = shared_.clock->now() + shared_.options.shutdown_deadline;
    auto kind = stop_kind::graceful;
    bool told_provider = false;
    const auto receiving_stopped = [&] {
        if (receiving_ || told_provider)
            return;
        told_provider = true;
        route_.provider().stop_receiving();
    };
    while (receiving_ || !messages_.empty())
    {
        receiving_stopped();
        if (terminal_ && kind == stop_kind::graceful)
        {
            log_(log_level::warning, "cancelling {} message(s) still in flight", messages_.size());
            workers_.cancel_running();
            kind = stop_kind::cancelled;
        }
        if (terminal_)
            co_await changed_.wait();
        else if ((co_await (changed_.wait() || shared_.clock->sleep_until(deadline))).index() == 1)
        {
            log_(log_level::warning, "shutdown deadline passed");
            terminal_ = true;
        }
    }
    receiving_stopped();
    workers_.close();
    heartbeat_cancel_.emit(asio::cancellation_type::terminal);
    while (heartbeating_ || workers_.live() != 0)
        co_await changed_.wait();
    try
    {
        co_await route_.provider().close();
    }
    catch (...)
    {
        ++counters_.provider_errors;
        log_(log_level::error, "closing the provider failed: {}", error_text(std::current_exception()));
    }
    log_(log_level::info, "stopped");
    if (permanent_failure_)
        co_return stop_kind::failed;
    metrics_.state = metrics::route_state::stopped;
    co_return kind;
}

} // namespace courier::detail
