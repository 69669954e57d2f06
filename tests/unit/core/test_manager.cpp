// The manager: signals, stop(), exit codes, borrowed io_contexts and configuration errors.
#include "detail/serial_executor.hpp"
#include "test_support.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <set>
#include <thread>

using namespace courier_test;

namespace {

courier::manager_options quiet(std::chrono::milliseconds deadline = 5s)
{
    courier::manager_options o;
    o.dispatch.log = courier::logger(courier::log_level::off);
    o.dispatch.shutdown_deadline = deadline;
    return o;
}

} // namespace

TEST_CASE("manager: SIGTERM with messages in flight stops gracefully; none lost or handled twice")
{
    courier::manager mgr(quiet());
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 100ms});
    for (int i = 0; i < 40; ++i)
        q->send(std::to_string(i));
    std::atomic<int> started{0}, finished{0};
    std::mutex mutex;
    std::multiset<std::string> handled;
    mgr.add_route(
        "work", q,
        [&](const courier::message& m) -> asio::awaitable<void> {
            if (++started == 4)
                std::raise(SIGTERM); // delivered to the manager's signal_set
            asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
            co_await t.async_wait(asio::use_awaitable);
            std::lock_guard lock(mutex);
            handled.insert(m.body);
            ++finished;
        },
        courier::route_options{.max_in_flight = 4});
    CHECK(mgr.run() == courier::exit_ok);
    CHECK(started == finished);
    CHECK(finished >= 4);
    const auto c = q->counts();
    CHECK(c.in_flight == 0);
    CHECK(c.visible + c.acked == 40);
    CHECK(c.acked == static_cast<std::uint64_t>(finished.load()));
    CHECK(std::set<std::string>(handled.begin(), handled.end()).size() == handled.size());
}

TEST_CASE("manager: a second signal cancels the handlers still running")
{
    courier::manager mgr(quiet(1h));
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 100ms});
    q->send("stuck");
    mgr.add_route("stuck", q, [&](const courier::message&) -> asio::awaitable<void> {
        std::raise(SIGINT);
        asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
        co_await t.async_wait(asio::use_awaitable);
        std::raise(SIGINT);
        t.expires_after(1h);
        co_await t.async_wait(asio::use_awaitable);
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK(mgr.run() == courier::exit_cancelled);
    // The handler and the shutdown deadline would take an hour: a minute proves the second
    // signal cut it short, even on a machine 20 times slower than usual.
    CHECK(std::chrono::steady_clock::now() - start < 60s);
    CHECK(q->counts().visible == 1); // released, not lost
}

TEST_CASE("manager: stop() from another thread; several io threads")
{
    auto o = quiet();
    o.threads = 2;
    courier::manager mgr(o);
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 50ms});
    for (int i = 0; i < 1000; ++i)
        q->send("x");
    std::atomic<int> handled{0};
    mgr.add_route("mt", q, [&](const courier::message&) -> asio::awaitable<void> {
        ++handled;
        co_return;
    });
    std::thread stopper([&] {
        while (!q->empty())
            std::this_thread::sleep_for(5ms);
        mgr.stop();
    });
    CHECK(mgr.run() == courier::exit_ok);
    stopper.join();
    CHECK(handled == 1000);
    CHECK(mgr.routes().at(0).stats().acked == 1000);
}

TEST_CASE("manager: runs on a borrowed io_context and leaves it usable")
{
    asio::io_context io;
    courier::manager_options o = quiet();
    o.handle_signals = false;
    courier::manager mgr(io, o);
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 20ms});
    q->send("x");
    mgr.add_route("borrowed", q, [&](const courier::message&) -> asio::awaitable<void> {
        mgr.stop();
        co_return;
    });
    CHECK(mgr.run() == courier::exit_ok);
    CHECK(q->empty());
    bool ran = false;
    asio::post(io, [&] { ran = true; });
    io.restart();
    io.run();
    CHECK(ran);
}

TEST_CASE("manager: one thread means no strands; several threads, or an unknown number, keep them")
{
    using io_executor = asio::io_context::executor_type;
    // What manager builds for threads = 1: handlers already run one at a time.
    asio::io_context one(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
    const auto plain = courier::detail::make_serial(one.get_executor());
    CHECK(plain.target<io_executor>() != nullptr);
    // A hint of 1 is only a hint: other threads may still run the context.
    for (int hint : {1, 2, BOOST_ASIO_CONCURRENCY_HINT_DEFAULT})
    {
        asio::io_context io(hint);
        const auto serial = courier::detail::make_serial(io.get_executor());
        CHECK(serial.target<io_executor>() == nullptr);
        CHECK(serial.target<asio::strand<io_executor>>() != nullptr);
    }

    // A one-thread manager runs a route end to end on that io_context, stop() from another
    // thread included.
    courier::manager mgr(quiet());
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 20ms});
    for (int i = 0; i < 100; ++i)
        q->send("x");
    std::atomic<int> handled{0};
    mgr.add_route("one-thread", q,
                  [&](const courier::message&) -> asio::awaitable<void> {
                      asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
                      co_await t.async_wait(asio::use_awaitable);
                      ++handled;
                  },
                  {.max_in_flight = 20});
    std::thread stopper([&] {
        while (handled < 100)
            std::this_thread::sleep_for(1ms);
        mgr.stop();
    });
    CHECK(mgr.run() == courier::exit_ok);
    stopper.join();
    CHECK(handled == 100);
    CHECK(q->empty());
}

TEST_CASE("manager: configuration errors are thrown before anything runs")
{
    courier::manager empty(quiet());
    CHECK_THROWS_WITH_AS(empty.run(), "no routes to run", courier::error);
}

TEST_CASE("manager: stop_now() from another thread cancels handlers and releases their messages")
{
    courier::manager mgr(quiet(1h));
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 100ms});
    q->send("stuck");
    std::atomic<bool> started{false};
    mgr.add_route("stuck", q, [&](const courier::message&) -> asio::awaitable<void> {
        started = true;
        asio::steady_timer t(co_await asio::this_coro::executor, 1h);
        co_await t.async_wait(asio::use_awaitable);
    });
    std::thread stopper([&] {
        while (!started)
            std::this_thread::sleep_for(1ms);
        mgr.stop_now();
    });
    const auto start = std::chrono::steady_clock::now();
    CHECK(mgr.run() == courier::exit_cancelled);
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(q->counts().visible == 1);
}
