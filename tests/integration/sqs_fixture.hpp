// Shared setup of the SQS integration tests: one fauxqs server per test binary, a
// client pointed at it with dummy credentials, fresh queues per test, and a helper that
// runs routes until a condition holds and then stops them gracefully.
#ifndef COURIER_TESTS_INTEGRATION_SQS_FIXTURE_HPP
#define COURIER_TESTS_INTEGRATION_SQS_FIXTURE_HPP

#include "../unit/test_support.hpp"
#include "fauxqs_server.hpp"

#include <courier/sqs.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

namespace courier_test {

inline fauxqs_server& shared_server()
{
    static fauxqs_server server;
    return server;
}

inline asio::awaitable<void> sleep_real(std::chrono::milliseconds d)
{
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

struct sqs_fixture
{
    // Built as courier::manager builds its own for one thread (no strands: requests run
    // in the caller's coroutine). The unit tests cover the strand path with default
    // io_contexts and several threads.
    asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    log_capture logs;
    std::shared_ptr<courier::sqs_client> client;

    sqs_fixture()
        : client(std::make_shared<courier::sqs_client>(io.get_executor(), client_options()))
    {
    }

    courier::sqs_client_options client_options()
    {
        courier::sqs_client_options o;
        o.aws.endpoint = shared_server().endpoint();
        o.aws.region = "us-east-1";
        o.aws.credentials = courier::aws::static_credentials(
            {.access_key_id = "AKIDCOURIERTEST", .secret_access_key = "courier-test-secret"});
        o.aws.log = logs.make(courier::log_level::debug);
        return o;
    }

    // Real time against a real server: the limit only catches a hang (see hang_guard).
    template <class Fn> auto run(Fn fn, std::chrono::milliseconds limit = hang_guard)
    {
        io.restart();
        return run_real(io, std::move(fn), limit);
    }

    std::string create_queue(const std::string& base, courier::queue_attributes attributes = {})
    {
        static std::atomic<int> serial{0};
        const bool fifo = attributes.count("FifoQueue") != 0;
        const auto name = base + "-" + std::to_string(++serial) + (fifo ? ".fifo" : "");
        return run(
            [&]() -> asio::awaitable<std::string> { co_return co_await client->create_queue(name, attributes); });
    }

    courier::queue_attributes attributes(const std::string& url)
    {
        return run([&]() -> asio::awaitable<courier::queue_attributes> {
            co_return co_await client->get_queue_attributes(url);
        });
    }

    /// Visible + in flight + delayed.
    int remaining(const std::string& url)
    {
        auto a = attributes(url);
        return std::stoi(a["ApproximateNumberOfMessages"]) + std::stoi(a["ApproximateNumberOfMessagesNotVisible"]) +
               std::stoi(a["ApproximateNumberOfMessagesDelayed"]);
    }

    void send(const std::string& url, std::vector<courier::outgoing_message> msgs)
    {
        run([&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < msgs.size(); i += 10)
            {
                std::vector<courier::outgoing_message> batch(msgs.begin() + i,
                                                             msgs.begin() + std::min(msgs.size(), i + 10));
                co_await client->send_batch(url, std::move(batch));
            }
        });
    }

    courier::sqs_queue_options queue_options(const std::string& url)
    {
        return {.queue_url = url, .wait_time = std::chrono::seconds(1), .visibility_timeout = std::chrono::seconds(30)};
    }

    /// Runs `routes` until `until()` holds (checked every 20 ms), then stops gracefully.
    courier::stop_kind run_routes(std::vector<courier::route> routes, std::function<bool()> until,
                                  courier::dispatcher_options options = {},
                                  std::chrono::milliseconds limit = hang_guard)
    {
        options.log = logs.make(courier::log_level::debug);
        courier::dispatcher d(io.get_executor(), std::move(routes), std::move(options));
        last_routes_stats.clear();
        auto kind = run(
            [&]() -> asio::awaitable<courier::stop_kind> {
                asio::co_spawn(
                    co_await asio::this_coro::executor,
                    [&]() -> asio::awaitable<void> {
                        while (!until())
                            co_await sleep_real(std::chrono::milliseconds(20));
                        d.stop();
                    },
                    asio::detached);
                co_return co_await d.run();
            },
            limit);
        for (const auto& r : d.routes())
            last_routes_stats.push_back({r.stats().received, r.stats().handled, r.stats().acked, r.stats().released,
                                         r.stats().heartbeats, r.stats().retried});
        return kind;
    }

    struct stats_copy
    {
        std::uint64_t received, handled, acked, released, heartbeats, retried;
    };
    std::vector<stats_copy> last_routes_stats;
};

} // namespace courier_test

#endif
