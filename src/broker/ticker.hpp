// A function called every period on a courier::clock until stopped: the broker providers'
// watch over deliveries nearing RabbitMQ's consumer_timeout, which must run while a full
// route calls nothing of its provider.
#ifndef COURIER_SRC_BROKER_TICKER_HPP
#define COURIER_SRC_BROKER_TICKER_HPP

#include "courier/clock.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace courier::broker {

class ticker
{
public:
    ticker() = default;
    ticker(const ticker&) = delete;
    ticker& operator=(const ticker&) = delete;
    /// Stops (see `stop`).
    ~ticker();

    /// Calls `tick` every `period` from now on `executor`, until `stop`. Restarts if running.
    void start(const boost::asio::any_io_executor& executor, std::shared_ptr<courier::clock> clock,
               std::chrono::milliseconds period, std::function<void()> tick);
    /// `tick` is not called again, and the sleep in progress ends at once. Call on the
    /// executor. Idempotent.
    void stop() noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace courier::broker

#endif
