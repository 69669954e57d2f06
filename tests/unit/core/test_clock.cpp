// The simulated clock: long sleeps take no real time, wake in order, and cancel.
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>

using namespace courier_test;

TEST_CASE("simulated clock: ten hours of sleeps run in no real time, in deadline order")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    const auto start = clock->now();
    std::vector<int> order;
    auto sleeper = [&](std::chrono::hours h, int tag) -> asio::awaitable<void> {
        co_await clock->sleep_for(h);
        order.push_back(tag);
    };
    asio::co_spawn(io, sleeper(10h, 3), asio::detached);
    asio::co_spawn(io, sleeper(1h, 1), asio::detached);
    asio::co_spawn(io, sleeper(5h, 2), asio::detached);
    const auto real_start = std::chrono::steady_clock::now();
    CHECK(clock->run(io));
    CHECK(std::chrono::steady_clock::now() - real_start < 2s);
    CHECK(order == std::vector<int>{1, 2, 3});
    CHECK(clock->now() - start == 10h);
    CHECK(clock->sleepers() == 0);
}

TEST_CASE("simulated clock: run stops at the limit and advance wakes due sleepers")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    bool woke = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await clock->sleep_for(2h);
            woke = true;
        },
        asio::detached);
    CHECK_FALSE(clock->run(io, 1h));
    CHECK_FALSE(woke);
    clock->advance(1h);
    io.restart();
    io.poll();
    CHECK(woke);
}

TEST_CASE("simulated clock: a cancelled sleep throws operation_aborted and leaves no sleeper")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    asio::cancellation_signal signal;
    std::exception_ptr error;
    asio::co_spawn(io, clock->sleep_for(1h),
                   asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { error = e; }));
    io.poll();
    CHECK(clock->sleepers() == 1);
    signal.emit(asio::cancellation_type::terminal);
    io.restart();
    io.poll();
    REQUIRE(error);
    CHECK_THROWS_AS(std::rethrow_exception(error), boost::system::system_error);
    CHECK(clock->sleepers() == 0);
}

TEST_CASE("steady clock: sleeps for real")
{
    asio::io_context io;
    auto clock = courier::steady_clock();
    const auto start = clock->now();
    run_real(io, [&]() -> asio::awaitable<void> { co_await clock->sleep_for(20ms); });
    CHECK(clock->now() - start >= 20ms);
}
