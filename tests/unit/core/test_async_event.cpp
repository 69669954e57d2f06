// detail::async_event under a parallel group's cancellation.
//
// Suspected: "a wait() inside a nested coroutine that is an operand of `||` is never woken
// when the group cancels it". These cases show it is woken, however deep the nesting, on the
// simulated clock and on a real timer; what does hang is a loop that waits again after a
// wait ended quietly by a cancellation: the cancellation was delivered once, the new wait has
// nothing left to end it. `wait()` never throws, so such a loop must check the coroutine's
// cancellation state after every wait (`broker::throw_if_cancelled`), as the broker
// connections do.
#include "../test_support.hpp"

#include "broker/stream.hpp"
#include "detail/async_event.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

using namespace courier_test;
using namespace asio::experimental::awaitable_operators;
using courier::detail::async_event;

namespace {

asio::awaitable<void> wait_once(async_event& e, int& ended)
{
    co_await e.wait();
    ++ended;
}

// Two more frames between the group's operand and the wait.
asio::awaitable<void> wait_deeper(async_event& e, int& ended)
{
    auto middle = [&]() -> asio::awaitable<void> { co_await wait_once(e, ended); };
    co_await middle();
}

} // namespace

TEST_CASE("async_event: a direct wait that is an operand of || is ended by the group's cancellation")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    async_event e;
    const auto index = run_simulated(io, *clock, [&]() -> asio::awaitable<std::size_t> {
        co_return (co_await (e.wait() || clock->sleep_for(1s))).index();
    });
    CHECK(index == 1);
}

TEST_CASE("async_event: a wait nested in coroutines that are an operand of || is ended by the group")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    async_event e;
    int ended = 0;
    const auto index = run_simulated(io, *clock, [&]() -> asio::awaitable<std::size_t> {
        co_return (co_await (wait_deeper(e, ended) || clock->sleep_for(1s))).index();
    });
    CHECK(index == 1);
    CHECK(ended == 1); // the nested wait returned (quietly) and its coroutine went on to its end
}

TEST_CASE("async_event: three operands like a connection's loops, the nested waits end when one fails")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    async_event a, b;
    int ended = 0;
    auto failing = [&]() -> asio::awaitable<void> {
        co_await clock->sleep_for(2s);
        throw std::runtime_error("link failed");
    };
    CHECK_THROWS_WITH(run_simulated(io, *clock, [&]() -> asio::awaitable<void> {
        co_await (wait_deeper(a, ended) || wait_deeper(b, ended) || failing());
    }), doctest::Contains("link failed"));
    CHECK(ended == 2);
}

TEST_CASE("async_event: a nested wait is ended by the group on a real timer too")
{
    asio::io_context io;
    async_event e;
    int ended = 0;
    auto timer = [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 10ms);
        co_await t.async_wait(asio::use_awaitable);
    };
    // Generous limit: the case takes 10 ms; a hang is what it catches.
    run_real(io, [&]() -> asio::awaitable<void> { co_await (wait_deeper(e, ended) || timer()); }, 60s);
    CHECK(ended == 1);
}

TEST_CASE("async_event: a loop that waits again after a quiet cancellation hangs; checking the state ends it")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    async_event e;
    bool leave = false;
    int waits = 0;
    // The shape of a writer loop: wait, re-check a condition, wait again.
    auto unchecked = [&]() -> asio::awaitable<void> {
        while (!leave)
        {
            ++waits;
            co_await e.wait();
        }
    };
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await (unchecked() || clock->sleep_for(1s)); },
                   [&](std::exception_ptr) { done = true; });
    clock->run(io);
    CHECK_FALSE(done);  // the group cancelled the first wait; the second one waits for a notify
    CHECK(waits == 2);
    leave = true;       // let it out before the event goes away
    e.notify();
    clock->run(io);
    CHECK(done);

    waits = 0;
    leave = false;
    auto checked = [&]() -> asio::awaitable<void> {
        while (!leave)
        {
            ++waits;
            co_await e.wait();
            co_await courier::broker::throw_if_cancelled();
        }
    };
    const auto index = run_simulated(io, *clock, [&]() -> asio::awaitable<std::size_t> {
        co_return (co_await (checked() || clock->sleep_for(1s))).index();
    });
    CHECK(index == 1);
    CHECK(waits == 1);
}

// What a route's stop sends a receive: total cancellation. An operand of || runs as a
// coroutine of its own (co_spawn), whose cancellation state lets only terminal cancellation
// through unless the operand widens it; the group passes `total` on, and the operand drops it.
TEST_CASE("async_event: total cancellation does not reach a wait that is an operand of ||, unless the operand lets it in")
{
    asio::io_context io;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    async_event e;
    asio::cancellation_signal stop;
    auto waiting = [&](bool widen) -> asio::awaitable<void> {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        auto wait = [&]() -> asio::awaitable<void> {
            if (widen)
                co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
            co_await e.wait();
        };
        co_await (wait() || clock->sleep_for(1h));
    };
    for (const bool widen : {false, true})
    {
        CAPTURE(widen);
        const auto began = clock->now();
        bool done = false;
        asio::co_spawn(io, waiting(widen), asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr) { done = true; }));
        io.restart();
        io.poll();
        stop.emit(asio::cancellation_type::total);
        clock->run(io);
        CHECK(done);
        // Without widening, only the hour-long sleep ended it.
        CHECK((clock->now() - began >= 1h) == !widen);
    }
}
