// Shared setup of the broker integration tests: the run's one RabbitMQ, unique queue names,
// and running coroutines on a one-thread io_context in real time.
#ifndef COURIER_TESTS_INTEGRATION_BROKER_FIXTURE_HPP
#define COURIER_TESTS_INTEGRATION_BROKER_FIXTURE_HPP

#include "../unit/test_support.hpp"
#include "rabbitmq_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <unistd.h>

namespace courier_test {

struct broker_fixture
{
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    log_capture logs;
    rabbitmq_server& broker = shared_rabbitmq();

    /// "base-<pid>-<n>": queues of this run never meet those of another.
    static std::string unique(const std::string& base)
    {
        static std::atomic<int> serial{0};
        return base + "-" + std::to_string(::getpid()) + "-" + std::to_string(++serial);
    }

    template <class Fn>
    auto run(Fn fn, std::chrono::milliseconds limit = std::chrono::seconds(120))
    {
        io.restart();
        return run_real(io, std::move(fn), limit);
    }
};

inline asio::awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace courier_test

#endif
