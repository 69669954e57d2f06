// Shared setup of the broker integration tests: the run's one RabbitMQ, unique queue names,
// and running coroutines on a one-thread io_context in real time.
#ifndef COURIER_TESTS_INTEGRATION_BROKER_FIXTURE_HPP
#define COURIER_TESTS_INTEGRATION_BROKER_FIXTURE_HPP

#include "../unit/test_support.hpp"
#include "rabbitmq_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <optional>
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

    /// Runs `fn()` until it completes (then stops the io_context, which the connections'
    /// timers would keep busy), failing the test after `limit`: generous, since a wall-clock
    /// limit must hold at a 20x slowdown.
    template <class Fn> auto run(Fn fn, std::chrono::milliseconds limit = std::chrono::seconds(120))
    {
        using result_type = typename decltype(fn())::value_type;
        io.restart();
        std::exception_ptr error;
        std::optional<std::conditional_t<std::is_void_v<result_type>, int, result_type>> result;
        bool done = false;
        asio::co_spawn(io, fn(), [&](std::exception_ptr e, auto... r) {
            error = e;
            if constexpr (sizeof...(r) == 1)
                result.emplace(r...);
            done = true;
            io.stop();
        });
        io.run_for(limit);
        REQUIRE_MESSAGE(done, "coroutine did not finish within the time limit");
        if (error)
            std::rethrow_exception(error);
        if constexpr (!std::is_void_v<result_type>)
            return *result;
    }
};

inline asio::awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

} // namespace courier_test

#endif
