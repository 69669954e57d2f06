// The heartbeat: its extension policy on its own, and through a route: extensions up to
// exactly the provider's limit since receipt, a refusal that stops them, one warning each,
// and the handler carrying on.
#include "../test_support.hpp"
#include "core/heartbeat.hpp"

using namespace courier_test;
using courier::detail::next_extension;
using courier::detail::visibility_limits;

TEST_CASE("heartbeat policy: extensions stop exactly at the limit since receipt")
{
    const courier::clock::time_point received{};
    const visibility_limits sqs{.timeout = 30s, .max_total = 12h};
    CHECK(next_extension(sqs, received, received + 10s) == 30s);
    CHECK(next_extension(sqs, received, received + 12h - 31s) == 30s);
    CHECK(next_extension(sqs, received, received + 12h - 20s) == 20s); // the last one, to the limit
    CHECK(next_extension(sqs, received, received + 12h - 1ms) == 1ms);
    CHECK_FALSE(next_extension(sqs, received, received + 12h).has_value());
    CHECK_FALSE(next_extension(sqs, received, received + 13h).has_value());

    const visibility_limits unlimited{.timeout = 30s, .max_total = 0s};
    CHECK(next_extension(unlimited, received, received + 100h) == 30s);
}

TEST_CASE_FIXTURE(dispatcher_fixture,
                  "heartbeat: the last extension goes exactly to the limit, then stops with one warning")
{
    // The limit made small: 100 s in total, a 30 s timeout, a handler of 5 minutes.
    auto q = queue({.visibility_timeout = 30s, .max_visibility = 100s});
    auto recorder = std::make_shared<recording_provider>(q);
    const auto id = q->send("long");
    int calls = 0;
    bool finished = false;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "long", recorder,
        [&](const courier::message&) -> asio::awaitable<void> {
            ++calls;
            co_await work(*clock, 5min);
            finished = true; // the handler carries on past the limit
        },
        courier::route_options{.max_in_flight = 1});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return finished && q->empty(); });
    // Every 10 s from receipt: 30 s seven times (to 100 s at 70 s), then 20 s at 80 s, which
    // ends exactly 100 s after receipt.
    std::vector<std::chrono::milliseconds> expected(7, 30s);
    expected.push_back(20s);
    CHECK(recorder->extensions == expected);
    CHECK(logs.count("last extension") == 1);
    CHECK(logs.count("extending visibility failed") == 0);
    CHECK(logs.contains(id + " its visibility is extended to the provider's limit"));
    CHECK(calls == 1);
    CHECK(recorder->acked.size() == 1); // nobody else received it meanwhile (max_in_flight 1)
}

TEST_CASE_FIXTURE(dispatcher_fixture,
                  "heartbeat: a refused extension stops the heartbeat for that message, with one warning")
{
    auto q = queue({.visibility_timeout = 30s});
    auto recorder = std::make_shared<recording_provider>(q);
    recorder->refuse_extensions = true;
    q->send("long");
    bool finished = false;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "long", recorder,
        [&](const courier::message&) -> asio::awaitable<void> {
            co_await work(*clock, 5min);
            finished = true;
        },
        courier::route_options{.max_in_flight = 1});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return finished && q->empty(); });
    CHECK(recorder->extends == 1);
    CHECK(logs.count("the provider refused to extend its visibility") == 1);
    CHECK(logs.count("extending visibility failed") == 0);
    CHECK(recorder->acked.size() == 1);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "heartbeat: the memory queue refuses extensions past its limit")
{
    auto q = queue({.visibility_timeout = 30s, .max_visibility = 60s, .receive_wait = 0s});
    q->send("x");
    auto got = run_simulated(
        io, *clock, [&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    REQUIRE(got.size() == 1);
    courier::visibility_control& v = *q->capabilities().visibility;
    clock->advance(20s);
    run_simulated(io, *clock, [&]() -> asio::awaitable<void> { co_await v.extend(got[0], 40s); }); // to 60 s
    clock->advance(10s);
    const auto e = error_from(
        [&] { run_simulated(io, *clock, [&]() -> asio::awaitable<void> { co_await v.extend(got[0], 31s); }); });
    CHECK(e.code() == courier::errc::visibility_limit);
}
