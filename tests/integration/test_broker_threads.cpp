// Broker providers and clients on an io_context that several threads run: each route runs
// on its connection's strand (the provider's executor), and a handler publishing through
// the other transport's client reaches that client's connection from another strand. The
// sanitizer run builds this test under ThreadSanitizer, which reports any unserialized
// access; here it shows as lost or duplicated messages, or a crash.
#include "amqp/connection.hpp"
#include "provider_fixture.hpp"

#include <courier/manager.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace courier_test;
namespace amqp = courier::amqp;
namespace stomp = courier::stomp;

TEST_CASE_FIXTURE(provider_fixture, "broker providers: routes and cross-transport publishers on a manager with four "
                                    "threads")
{
    constexpr std::size_t n = 300;
    const auto from_amqp = unique("threads-in-amqp"), from_stomp = unique("threads-in-stomp");
    const auto to_amqp = unique("threads-out-amqp"), to_stomp = unique("threads-out-stomp");
    {
        amqp::client filler(io.get_executor(), amqp_options());
        run([&]() -> asio::awaitable<void> {
            // Named: GCC 12 frees a temporary of a co_await expression twice.
            for (const auto& q : {from_amqp, from_stomp, to_amqp, to_stomp})
            {
                amqp::queue_declare_args declare{.queue = q, .durable = true};
                co_await filler.connection_ptr()->declare_queue(std::move(declare));
            }
            for (const auto& q : {from_amqp, from_stomp})
            {
                auto p = filler.publisher("", q);
                for (std::size_t i = 0; i < n; ++i)
                {
                    courier::outgoing_message m;
                    m.body = q + " " + std::to_string(i);
                    co_await p->publish(std::move(m));
                }
            }
            co_await filler.close();
        });
    }

    int exit_code = -1;
    std::atomic<std::size_t> handled{0}, failed{0};
    std::mutex bodies_mutex;
    std::set<std::string> bodies;
    {
        asio::io_context mt_io(4);
        auto work = asio::make_work_guard(mt_io);
        std::vector<std::thread> threads;
        for (int i = 0; i < 3; ++i)
            threads.emplace_back([&] { mt_io.run(); });
        auto amqp_client = std::make_shared<amqp::client>(mt_io.get_executor(), amqp_options());
        auto stomp_client = std::make_shared<stomp::client>(mt_io.get_executor(), stomp_options());
        {
            courier::manager mgr(mt_io, {.handle_signals = false, .dispatch = {.log = log}});
            auto handler = [&](std::shared_ptr<courier::publisher> onwards) {
                return [&, onwards](const courier::message& m) -> asio::awaitable<void> {
                    courier::outgoing_message copy; // named, as above
                    copy.body = m.body;
                    co_await onwards->publish(std::move(copy));
                    {
                        std::lock_guard lock(bodies_mutex);
                        bodies.insert(m.body);
                    }
                    if (++handled == 2 * n)
                        mgr.stop();
                };
            };
            const auto on_error = [&](const courier::context&, std::exception_ptr) {
                ++failed;
                return courier::error_action::retry_after(100ms);
            };
            mgr.add_route("from-amqp",
                          courier::make_amqp_provider(amqp_client, {.queue = from_amqp, .wait_time = 200ms}),
                          handler(stomp_client->publisher("/queue/" + to_stomp)),
                          courier::route_options{.max_in_flight = 32, .on_error = on_error});
            mgr.add_route("from-stomp",
                          courier::make_stomp_provider(stomp_client, {.queue = from_stomp, .wait_time = 200ms}),
                          handler(amqp_client->publisher("", to_amqp)),
                          courier::route_options{.max_in_flight = 32, .on_error = on_error});
            std::atomic<bool> finished{false};
            std::thread watchdog([&] {
                const auto deadline = std::chrono::steady_clock::now() + 120s;
                while (!finished && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(50ms);
                if (!finished)
                    mgr.stop();
            });
            exit_code = mgr.run();
            finished = true;
            watchdog.join();
        }
        // Closed from outside their connections' strands: `close` goes there itself.
        std::atomic<int> closed{0};
        asio::co_spawn(mt_io, amqp_client->close(), [&](std::exception_ptr e) { closed += e ? 100 : 1; });
        asio::co_spawn(mt_io, stomp_client->close(), [&](std::exception_ptr e) { closed += e ? 100 : 1; });
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (closed < 2 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);
        CHECK(closed == 2);
        work.reset();
        mt_io.stop();
        for (auto& t : threads)
            t.join();
    }
    CHECK(exit_code == courier::exit_ok);
    CHECK(handled == 2 * n);
    CHECK(failed == 0);
    CHECK(bodies.size() == 2 * n);
    CHECK(ready(from_amqp) == 0);
    CHECK(ready(from_stomp) == 0);
    CHECK(ready(to_amqp) == n);
    CHECK(ready(to_stomp) == n);
}
