// broker::deadline_event on the simulated clock: a wait ends at notify or at its deadline,
// waits share one alarm, and cancelling or ending the waits leaves no sleep behind.
#include "broker/wait.hpp"

#include <courier/testing/simulated_clock.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier::broker::deadline_event;
using courier::testing::simulated_clock;

namespace {

struct fixture
{
    asio::io_context io;
    std::shared_ptr<simulated_clock> clock = std::make_shared<simulated_clock>();
    deadline_event event{clock};
    const simulated_clock::time_point start = clock->now();

    // Waits once until `start + after`; records when the wait returned, or how it failed.
    void wait(simulated_clock::duration after, std::optional<simulated_clock::time_point>& returned,
              std::exception_ptr& failure, asio::cancellation_slot slot = {})
    {
        asio::co_spawn(
            io,
            [&, after]() -> asio::awaitable<void> {
                const auto deadline = start + after;
                co_await event.wait_until(deadline);
                returned = clock->now();
            },
            asio::bind_cancellation_slot(slot, [&](std::exception_ptr e) { failure = e; }));
    }

    // Runs ready handlers only: simulated time stands still.
    void settle()
    {
        io.restart();
        io.poll();
    }
};

} // namespace

TEST_CASE("deadline_event: a wait nobody notifies returns at its deadline")
{
    fixture f;
    std::optional<simulated_clock::time_point> returned;
    std::exception_ptr failure;
    f.wait(20s, returned, failure);
    CHECK(f.clock->run(f.io));
    REQUIRE(returned);
    CHECK(*returned == f.start + 20s);
    CHECK_FALSE(failure);
    CHECK(f.clock->sleepers() == 0);
}

TEST_CASE("deadline_event: notify ends a wait at once, and later waits reuse the pending alarm")
{
    fixture f;
    std::optional<simulated_clock::time_point> first, second;
    std::exception_ptr failure;
    f.wait(20s, first, failure);
    f.settle();
    CHECK(f.clock->sleepers() == 1);
    f.event.notify();
    f.settle();
    REQUIRE(first);
    CHECK(*first == f.start);

    // A later deadline needs no new sleep: the alarm still pending wakes this wait early,
    // and the caller, seeing the time, waits again (as a subscription does).
    f.clock->advance(1s);
    f.wait(21s, second, failure);
    f.settle();
    CHECK(f.clock->sleepers() == 1);
    f.event.notify();
    f.settle();
    REQUIRE(second);
    CHECK(*second == f.start + 1s);
    CHECK_FALSE(failure);

    // Nothing waits, the alarm fires once at its deadline and leaves nothing behind.
    CHECK(f.clock->run(f.io));
    CHECK(f.clock->now() == f.start + 20s);
    CHECK(f.clock->sleepers() == 0);
}

TEST_CASE("deadline_event: an earlier deadline re-arms the alarm, and every waiter is woken at or before its own")
{
    fixture f;
    std::optional<simulated_clock::time_point> late, early;
    std::exception_ptr failure;
    f.wait(20s, late, failure);
    f.wait(5s, early, failure);
    f.settle();
    CHECK(f.clock->sleepers() == 1); // the 20 s alarm was replaced, not kept beside the 5 s one
    f.clock->run(f.io, 5s);
    REQUIRE(early);
    CHECK(*early == f.start + 5s);
    // The 20 s waiter was woken with it (it re-checks the clock and waits again: here, it
    // returns, since the test's wait is a single one).
    REQUIRE(late);
    CHECK(*late == f.start + 5s);
    CHECK_FALSE(failure);
    CHECK(f.clock->sleepers() == 0);
}

TEST_CASE("deadline_event: cancelling the last waiter ends the wait with operation_aborted and the alarm with it")
{
    fixture f;
    std::optional<simulated_clock::time_point> returned;
    std::exception_ptr failure;
    asio::cancellation_signal cancel;
    f.wait(20s, returned, failure, cancel.slot());
    f.settle();
    CHECK(f.clock->sleepers() == 1);
    cancel.emit(asio::cancellation_type::terminal);
    CHECK(f.clock->run(f.io));
    CHECK_FALSE(returned);
    REQUIRE(failure);
    try
    {
        std::rethrow_exception(failure);
    }
    catch (const boost::system::system_error& e)
    {
        CHECK(e.code() == asio::error::operation_aborted);
    }
    // No sleep kept the io_context busy until the deadline.
    CHECK(f.clock->now() == f.start);
    CHECK(f.clock->sleepers() == 0);
}

TEST_CASE("deadline_event: finish and destruction end a pending alarm, so the executor runs out of work")
{
    fixture f;
    std::optional<simulated_clock::time_point> returned;
    std::exception_ptr failure;
    f.wait(20s, returned, failure);
    f.settle();
    f.event.notify();
    f.settle();
    REQUIRE(returned);
    CHECK(f.clock->sleepers() == 1); // the alarm outlives the wait that armed it
    f.event.finish();
    CHECK(f.clock->run(f.io));
    CHECK(f.clock->now() == f.start);

    auto other = std::make_unique<deadline_event>(f.clock);
    asio::co_spawn(
        f.io, [&]() -> asio::awaitable<void> { co_await other->wait_until(f.start + 20s); },
        [&](std::exception_ptr) {});
    f.settle();
    other->notify();
    f.settle();
    CHECK(f.clock->sleepers() == 1);
    other.reset();
    CHECK(f.clock->run(f.io));
    CHECK(f.clock->now() == f.start);
    CHECK(f.clock->sleepers() == 0);
}
