// The dispatcher's semantics on the in-memory queue and simulated time: ack on
// success, error handling, limits and back-pressure, FIFO groups, heartbeats and
// graceful shutdown.
#include "test_support.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>
#include <thread>

using namespace courier_test;
using courier::memory_provider;

namespace {

using fixture = dispatcher_fixture;

struct order
{
    std::string id;
    int quantity;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, quantity))

} // namespace

TEST_CASE_FIXTURE(fixture, "dispatcher: every message is handled once and acked after success")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 100; ++i)
        q->send(fmt::format(R"({{"id":"o{}","quantity":{}}})", i, i));
    std::multiset<std::string> seen;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "orders", recorder, courier::json<order>{}, [&](order o, courier::context& ctx) -> asio::awaitable<void> {
            // Not acked while the handler runs.
            CHECK(std::count(recorder->acked.begin(), recorder->acked.end(), std::string(ctx.message_id())) == 0);
            co_await work(*clock, 1s);
            seen.insert(o.id);
        });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    CHECK(run(d, [&] { return q->empty(); }) == courier::stop_kind::graceful);
    CHECK(seen.size() == 100);
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 100);
    CHECK(recorder->acked.size() == 100);
    const auto& stats = d.routes()[0].stats();
    CHECK(stats.handled == 100);
    CHECK(stats.acked == 100);
    CHECK(stats.failed == 0);
    CHECK(recorder->closes == 1);
    CHECK(logs.count("DEBUG [orders] memory-1 received (delivery 1)") == 1);
    CHECK(logs.count("DEBUG [orders] memory-1 acked") == 1);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: without an error handler a failure is logged and the message left")
{
    auto q = queue({.visibility_timeout = 30s});
    auto recorder = std::make_shared<recording_provider>(q);
    q->send("boom");
    int calls = 0;
    std::vector<courier::route> routes;
    routes.emplace_back("fragile", recorder, [&](const courier::message& m) -> asio::awaitable<void> {
        ++calls;
        if (m.receive_count < 3)
            throw std::runtime_error("database unavailable");
        co_return;
    });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    const auto start = clock->now();
    run(d, [&] { return q->empty(); });
    CHECK(calls == 3);
    // Left twice: each redelivery waited for the whole visibility timeout.
    CHECK(clock->now() - start >= 60s);
    CHECK(recorder->retried.empty());
    CHECK(recorder->acked.size() == 1);
    CHECK(d.routes()[0].stats().left == 2);
    CHECK(logs.count("ERROR [fragile] memory-1 failed (delivery 1): database unavailable; left for redelivery") == 1);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: retry_with_backoff redelivers after exponential delays")
{
    auto q = queue({.visibility_timeout = 1h});
    q->send("flaky");
    std::vector<courier::clock::time_point> attempts;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "flaky", q,
        [&](const courier::message& m) -> asio::awaitable<void> {
            attempts.push_back(clock->now());
            if (m.receive_count < 5)
                throw std::runtime_error("not yet");
            co_return;
        },
        courier::route_options{.on_error = courier::retry_with_backoff({.base = 10s, .max = 1h, .jitter = false})});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    REQUIRE(attempts.size() == 5);
    for (std::size_t i = 1; i < attempts.size(); ++i)
    {
        const auto expected = 10s * (1 << (i - 1)); // 10, 20, 40, 80 s
        CHECK(attempts[i] - attempts[i - 1] >= expected);
        CHECK(attempts[i] - attempts[i - 1] < expected + 1s);
    }
    CHECK(d.routes()[0].stats().retried == 4);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: the error handler decides: ack, leave, or retry; it sees translation errors")
{
    auto q = queue({.visibility_timeout = 10s});
    q->send(R"({"id":"ok","quantity":1})");
    q->send(R"({"id":"bad","quantity":"many"})");
    q->send("not json");
    std::vector<std::string> errors;
    int handled = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "orders", q, courier::json<order>{},
        [&](order) -> asio::awaitable<void> {
            ++handled;
            co_return;
        },
        courier::route_options{.on_error = [&](const courier::context& ctx, std::exception_ptr e) {
            try
            {
                std::rethrow_exception(e);
            }
            catch (const courier::error& err)
            {
                CHECK(err.code() == courier::errc::translation_failed);
                CHECK(err.context().route == "orders");
                CHECK(err.context().message_id == ctx.message_id());
                errors.push_back(err.detail());
            }
            return courier::error_action::ack();
        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(handled == 1);
    REQUIRE(errors.size() == 2);
    CHECK(errors[0] == "$.quantity: expected an integer, got a string");
    CHECK(errors[1].find("body is not valid JSON") == 0);
    CHECK(d.routes()[0].stats().acked == 3);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: handlers force outcomes with delete_message and retry_message")
{
    auto q = queue({.visibility_timeout = 1h});
    auto recorder = std::make_shared<recording_provider>(q);
    const auto obsolete = q->send("obsolete");
    const auto later = q->send("later");
    bool error_handler_called = false;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "forced", recorder,
        [&](const courier::message& m) -> asio::awaitable<void> {
            if (m.body == "obsolete")
                throw courier::delete_message("superseded");
            if (m.receive_count == 1)
                throw courier::retry_message(2min);
            co_return;
        },
        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr) {
            error_handler_called = true;
            return courier::error_action::leave();
        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    const auto start = clock->now();
    run(d, [&] { return q->empty(); });
    CHECK_FALSE(error_handler_called);
    CHECK(recorder->retried == std::vector<std::string>{later});
    CHECK(recorder->acked.size() == 2);
    CHECK(clock->now() - start >= 2min);
    CHECK(clock->now() - start < 1h);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: at most max_in_flight handlers run at once, and receive asks only for room")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 200; ++i)
        q->send("m");
    int running = 0, peak = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "limited", recorder,
        [&](const courier::message&) -> asio::awaitable<void> {
            peak = std::max(peak, ++running);
            co_await work(*clock, 1s);
            --running;
        },
        courier::route_options{.max_in_flight = 7, .receive_batch = 10});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(peak == 7);
    CHECK(recorder->max_asked <= 7);
    CHECK(d.routes()[0].stats().in_flight_peak == 7);
    CHECK(d.routes()[0].stats().acked == 200);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: the global limit caps all routes together")
{
    auto a = queue({.name = "a"});
    auto b = queue({.name = "b"});
    for (int i = 0; i < 50; ++i)
    {
        a->send("x");
        b->send("y");
    }
    int running = 0, peak = 0;
    auto handler = [&](const courier::message&) -> asio::awaitable<void> {
        peak = std::max(peak, ++running);
        co_await work(*clock, 1s);
        --running;
    };
    std::vector<courier::route> routes;
    routes.emplace_back("a", a, handler, courier::route_options{.max_in_flight = 10});
    routes.emplace_back("b", b, handler, courier::route_options{.max_in_flight = 10});
    courier::dispatcher d(io.get_executor(), std::move(routes), options({.max_in_flight = 6}));
    run(d, [&] { return a->empty() && b->empty(); });
    CHECK(peak == 6);
    CHECK(d.routes()[0].stats().acked == 50);
    CHECK(d.routes()[1].stats().acked == 50);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: a slow route does not starve a fast one")
{
    auto slow = queue({.name = "slow"});
    auto fast = queue({.name = "fast"});
    for (int i = 0; i < 20; ++i)
        slow->send("s");
    for (int i = 0; i < 100; ++i)
        fast->send("f");
    courier::clock::time_point fast_done{};
    int fast_handled = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "slow", slow, [&](const courier::message&) -> asio::awaitable<void> { co_await work(*clock, 10min); },
        courier::route_options{.max_in_flight = 2});
    routes.emplace_back(
        "fast", fast,
        [&](const courier::message&) -> asio::awaitable<void> {
            co_await work(*clock, 1s);
            if (++fast_handled == 100)
                fast_done = clock->now();
        },
        courier::route_options{.max_in_flight = 10});
    const auto start = clock->now();
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return slow->empty() && fast->empty(); });
    // 100 messages, 10 at a time, 1 s each: about 10 s, while the slow route takes 100 min.
    CHECK(fast_done - start <= 11s);
    CHECK(clock->now() - start >= 100min);
}

TEST_CASE_FIXTURE(fixture,
                  "dispatcher: messages of a FIFO group are handled in order, one at a time; groups in parallel")
{
    auto q = queue({.fifo = true});
    for (int i = 0; i < 10; ++i)
        for (const char* g : {"A", "B", "C"})
            q->send(courier::outgoing_message{.body = std::to_string(i), .group_id = g});
    std::map<std::string, std::vector<int>> order_seen;
    std::map<std::string, int> running;
    int peak_groups = 0, now_running = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "fifo", q,
        [&](const courier::message& m) -> asio::awaitable<void> {
            CHECK(++running[m.group_id] == 1);
            peak_groups = std::max(peak_groups, ++now_running);
            co_await work(*clock, 1s);
            order_seen[m.group_id].push_back(std::stoi(m.body));
            --running[m.group_id];
            --now_running;
        },
        courier::route_options{.max_in_flight = 10});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    for (const char* g : {"A", "B", "C"})
        CHECK(order_seen[g] == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(peak_groups == 3);
}

TEST_CASE_FIXTURE(fixture,
                  "dispatcher: heartbeats keep a slow handler's message hidden; without them it is redelivered")
{
    for (bool heartbeat : {true, false})
    {
        CAPTURE(heartbeat);
        auto q = queue({.visibility_timeout = 30s});
        auto recorder = std::make_shared<recording_provider>(q);
        q->send("slow");
        int calls = 0;
        std::vector<courier::route> routes;
        routes.emplace_back(
            "slow", recorder,
            [&](const courier::message&) -> asio::awaitable<void> {
                ++calls;
                co_await work(*clock, 5min); // ten visibility timeouts
            },
            courier::route_options{.heartbeat = heartbeat});
        courier::dispatcher d(io.get_executor(), std::move(routes), options());
        // Without heartbeats the message never settles: every delivery's receipt is
        // stale by the time its handler ends. So stop once it was redelivered.
        run(d, [&] { return heartbeat ? q->empty() : calls > 1; });
        if (heartbeat)
        {
            CHECK(calls == 1);
            CHECK(recorder->extends >= 10);
            CHECK(recorder->acked.size() == 1);
        }
        else
        {
            CHECK(calls > 1); // redelivered while still being handled
            CHECK(recorder->extends == 0);
        }
    }
}

TEST_CASE_FIXTURE(fixture, "dispatcher: receive failures are retried with backoff")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    recorder->fail_receives = 3;
    q->send("x");
    std::vector<courier::route> routes;
    routes.emplace_back("r", recorder, [&](const courier::message&) -> asio::awaitable<void> { co_return; });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(d.routes()[0].stats().provider_errors == 3);
    CHECK(d.routes()[0].stats().acked == 1);
    CHECK(logs.count("receive failed: injected receive failure; retrying in 200 ms") == 1);
    CHECK(logs.count("retrying in 800 ms") == 1);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: stop lets in-flight handlers finish, acks them, and leaves the rest queued")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 50; ++i)
        q->send(std::to_string(i));
    int started = 0, finished = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "graceful", recorder,
        [&](const courier::message&) -> asio::awaitable<void> {
            ++started;
            co_await work(*clock, 10s);
            ++finished;
        },
        courier::route_options{.max_in_flight = 5});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    // Stop while the first five are in flight.
    CHECK(run(d, [&] { return started == 5; }) == courier::stop_kind::graceful);
    CHECK(started == 5);
    CHECK(finished == 5);
    CHECK(recorder->acked.size() == 5);
    CHECK(recorder->released.empty());
    const auto c = q->counts();
    CHECK(c.visible == 45);
    CHECK(c.in_flight == 0);

    // A new dispatcher on the same queue takes the rest: every message handled once.
    std::vector<courier::route> again;
    again.emplace_back("graceful", recorder, [&](const courier::message&) -> asio::awaitable<void> {
        ++started;
        co_return;
    });
    courier::dispatcher d2(io.get_executor(), std::move(again), options());
    run(d2, [&] { return q->empty(); });
    CHECK(started == 50);
    CHECK(std::set<std::string>(recorder->acked.begin(), recorder->acked.end()).size() == 50);
    CHECK(recorder->acked.size() == 50);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: at the deadline running handlers are cancelled and their messages released")
{
    auto q = queue({.visibility_timeout = 1h});
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 3; ++i)
        q->send("stuck");
    int started = 0;
    std::vector<courier::route> routes;
    routes.emplace_back("stuck", recorder, [&](const courier::message&) -> asio::awaitable<void> {
        ++started;
        co_await work(*clock, 10h);
    });
    courier::dispatcher d(io.get_executor(), std::move(routes), options({.shutdown_deadline = 5s}));
    const auto start = clock->now();
    CHECK(run(d, [&] { return started == 3; }) == courier::stop_kind::cancelled);
    CHECK(clock->now() - start < 1min);
    CHECK(recorder->released.size() == 3);
    CHECK(recorder->acked.empty());
    CHECK(q->counts().visible == 3); // redelivered at once, not after the hour
    CHECK(logs.count("shutdown deadline passed") == 1);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: messages queued behind a FIFO group are released at stop, not handled")
{
    auto q = queue({.fifo = true});
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 5; ++i)
        q->send(courier::outgoing_message{.body = std::to_string(i), .group_id = "G"});
    std::vector<std::string> handled;
    std::vector<courier::route> routes;
    routes.emplace_back("fifo", recorder, [&](const courier::message& m) -> asio::awaitable<void> {
        handled.push_back(m.body);
        co_await work(*clock, 10s); // within the 30 s shutdown deadline
    });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return handled.size() == 1; });
    CHECK(handled == std::vector<std::string>{"0"});
    CHECK(recorder->acked.size() == 1);
    CHECK(recorder->released.size() == 4);
    CHECK(q->counts().visible == 4);
    CHECK(d.routes()[0].stats().released == 4);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: stop_now cancels at once; nothing is acked twice or lost")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 4; ++i)
        q->send("x");
    int started = 0;
    std::vector<courier::route> routes;
    routes.emplace_back("now", recorder, [&](const courier::message&) -> asio::awaitable<void> {
        ++started;
        co_await work(*clock, 1h);
    });
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    std::optional<courier::stop_kind> result;
    asio::co_spawn(io, d.run(), [&](std::exception_ptr, courier::stop_kind k) { result = k; });
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (started < 4)
                co_await clock->sleep_for(1ms);
            d.stop_now();
        },
        asio::detached);
    const auto start = clock->now();
    clock->run(io);
    REQUIRE(result);
    CHECK(*result == courier::stop_kind::cancelled);
    CHECK(clock->now() - start < 1s);
    CHECK(recorder->released.size() == 4);
    CHECK(q->counts().visible == 4);
}

TEST_CASE_FIXTURE(fixture, "dispatcher: rejects bad configuration before running")
{
    auto q = queue();
    auto noop = [](const courier::message&) -> asio::awaitable<void> { co_return; };
    std::vector<courier::route> twins;
    twins.emplace_back("same", q, noop);
    twins.emplace_back("same", q, noop);
    courier::dispatcher d(io.get_executor(), std::move(twins), options());
    CHECK_THROWS_WITH_AS(d.validate(), "two routes have the same name [route=same]", courier::error);
    std::vector<courier::route> zero;
    zero.emplace_back("zero", q, noop, courier::route_options{.max_in_flight = 0});
    courier::dispatcher d2(io.get_executor(), std::move(zero), options());
    CHECK_THROWS_AS(d2.validate(), courier::error);
    CHECK_THROWS_AS(courier::route("null", nullptr, noop), courier::error);
}

TEST_CASE("dispatcher: a plain callable runs on the thread pool and does not block coroutines")
{
    // Real time here: the point is that the event loop thread stays free.
    asio::io_context io;
    auto blocking =
        std::make_shared<memory_provider>(courier::memory_queue_options{.name = "blocking", .receive_wait = 50ms});
    auto async =
        std::make_shared<memory_provider>(courier::memory_queue_options{.name = "async", .receive_wait = 50ms});
    blocking->send("sleep");
    for (int i = 0; i < 20; ++i)
        async->send("tick");
    std::atomic<bool> blocking_running{false};
    std::atomic<int> ticks_during_block{0};
    std::thread::id loop_thread = std::this_thread::get_id(), handler_thread;
    std::vector<courier::route> routes;
    routes.emplace_back("blocking", blocking, [&](const courier::message&) {
        handler_thread = std::this_thread::get_id();
        blocking_running = true;
        // Blocks until the coroutine route has turned five times: it can only if the event
        // loop runs meanwhile. The minute is a bound for a broken build, not a speed test.
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (ticks_during_block < 5 && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        blocking_running = false;
    });
    routes.emplace_back(
        "async", async,
        [&](const courier::message&) -> asio::awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
            co_await t.async_wait(asio::use_awaitable);
            if (blocking_running)
                ++ticks_during_block;
        },
        courier::route_options{.max_in_flight = 1});
    courier::dispatcher d(io.get_executor(), std::move(routes), {.log = courier::logger(courier::log_level::off)});
    // Real time (a thread pool is involved); the limit holds at a 20x slowdown.
    run_real(
        io,
        [&]() -> asio::awaitable<void> {
            asio::co_spawn(
                co_await asio::this_coro::executor,
                [&]() -> asio::awaitable<void> {
                    while (!(blocking->empty() && async->empty()))
                    {
                        asio::steady_timer t(co_await asio::this_coro::executor, 5ms);
                        co_await t.async_wait(asio::use_awaitable);
                    }
                    d.stop();
                },
                asio::detached);
            co_await d.run();
        },
        120s);
    CHECK(handler_thread != loop_thread);
    CHECK(ticks_during_block >= 5);
    CHECK(d.routes()[0].stats().acked == 1);
    CHECK(d.routes()[1].stats().acked == 20);
}
