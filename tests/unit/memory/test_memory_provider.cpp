// The in-memory queue keeps SQS's semantics: visibility, receipts, receive counts,
// retries, extension, dead-lettering, FIFO groups and long polling.
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

using namespace courier_test;
using courier::memory_provider;
using courier::memory_queue_options;

namespace {

struct fixture : simulated_fixture
{
    template <class Fn> auto run(Fn fn) { return run_simulated(io, *clock, std::move(fn)); }
};

} // namespace

TEST_CASE_FIXTURE(fixture, "memory queue: receive, ack, and the message is gone")
{
    auto q = queue();
    const auto id =
        q->send(courier::outgoing_message{.body = "hello", .attributes = {{"kind", {"String", "greeting"}}}});
    auto got = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(10); });
    REQUIRE(got.size() == 1);
    CHECK(got[0].id == id);
    CHECK(got[0].body == "hello");
    CHECK(got[0].receive_count == 1);
    CHECK(got[0].attributes.at("kind").value == "greeting");
    CHECK(q->counts().in_flight == 1);
    run([&]() -> asio::awaitable<void> { co_await q->ack(got[0]); });
    CHECK(q->empty());
    CHECK(q->counts().acked == 1);
}

TEST_CASE_FIXTURE(fixture, "memory queue: an unacked message comes back after the visibility timeout")
{
    auto q = queue({.visibility_timeout = 30s, .receive_wait = 0s});
    q->send("x");
    auto first = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    REQUIRE(first.size() == 1);
    // Still hidden 29 s later.
    clock->advance(29s);
    auto none = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    CHECK(none.empty());
    clock->advance(1s);
    auto again = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    REQUIRE(again.size() == 1);
    CHECK(again[0].id == first[0].id);
    CHECK(again[0].receive_count == 2);
    CHECK(again[0].receipt != first[0].receipt);

    // The first receipt is stale now: acking with it fails and deletes nothing.
    CHECK_THROWS_AS(run([&]() -> asio::awaitable<void> { co_await q->ack(first[0]); }), courier::error);
    CHECK(q->counts().in_flight == 1);
    CHECK(q->counts().stale_receipts == 1);
    run([&]() -> asio::awaitable<void> { co_await q->ack(again[0]); });
    CHECK(q->empty());
}

TEST_CASE_FIXTURE(fixture, "memory queue: a deleted message's receipt never reaches the message that took its place")
{
    auto q = queue({.receive_wait = 0s});
    q->send("first");
    auto first = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    REQUIRE(first.size() == 1);
    run([&]() -> asio::awaitable<void> { co_await q->ack(first[0]); });
    CHECK(q->empty());

    // The next message reuses the deleted one's storage.
    const auto second_id = q->send("second");
    auto second = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    REQUIRE(second.size() == 1);
    CHECK(second[0].body == "second");
    CHECK(second[0].receipt != first[0].receipt);

    // Acking, retrying or extending with the old receipt fails and leaves the new message be.
    const auto stale = error_from([&] { run([&]() -> asio::awaitable<void> { co_await q->ack(first[0]); }); });
    CHECK(stale.code() == courier::errc::stale_receipt);
    CHECK(contains(stale.what(), "already deleted"));
    CHECK_THROWS_AS(run([&]() -> asio::awaitable<void> { co_await q->retry(first[0], 0s); }), courier::error);
    CHECK_THROWS_AS(run([&]() -> asio::awaitable<void> { co_await q->extend(first[0], 60s); }), courier::error);
    CHECK(q->counts().in_flight == 1);
    CHECK(q->counts().stale_receipts == 3);

    // Malformed receipts are refused too.
    auto forged = second[0];
    for (const char* receipt : {"", "1", "0.0", "x.1", "0.x", "0.1.2", "99.1"})
    {
        forged.receipt = receipt;
        CHECK_THROWS_AS(run([&]() -> asio::awaitable<void> { co_await q->ack(forged); }), courier::error);
    }
    CHECK(q->counts().in_flight == 1);
    run([&]() -> asio::awaitable<void> { co_await q->ack(second[0]); });
    CHECK(q->empty());
    CHECK(second[0].id == second_id);
}

TEST_CASE_FIXTURE(fixture, "memory queue: retry hides for the delay; zero releases at once")
{
    auto q = queue({.receive_wait = 0s});
    q->send("x");
    auto take = [&] {
        return run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    };
    auto m = take();
    run([&]() -> asio::awaitable<void> { co_await q->retry(m.at(0), 5min); });
    CHECK(q->counts().delayed == 1);
    clock->advance(4min);
    CHECK(take().empty());
    clock->advance(1min);
    m = take();
    REQUIRE(m.size() == 1);
    CHECK(m[0].receive_count == 2);
    run([&]() -> asio::awaitable<void> { co_await q->retry(m.at(0), 0ms); });
    CHECK(q->counts().visible == 1);
    CHECK(take().at(0).receive_count == 3);
}

TEST_CASE_FIXTURE(fixture, "memory queue: extend keeps a message hidden past its timeout")
{
    auto q = queue({.visibility_timeout = 10s, .receive_wait = 0s});
    q->send("x");
    auto m = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    clock->advance(8s);
    run([&]() -> asio::awaitable<void> { co_await q->extend(m.at(0), 10s); });
    clock->advance(8s); // 16 s after receive, 8 s after the extension
    CHECK(q->counts().in_flight == 1);
    clock->advance(2s);
    CHECK(q->counts().visible == 1);
    // Extending after expiry is refused: the message may already be with someone else.
    CHECK_THROWS_AS(run([&]() -> asio::awaitable<void> { co_await q->extend(m.at(0), 10s); }), courier::error);
}

TEST_CASE_FIXTURE(fixture, "memory queue: dead-letter queue after max_receive_count receives")
{
    auto dlq = queue({.name = "dlq"});
    auto q = queue({.visibility_timeout = 1s, .receive_wait = 0s, .max_receive_count = 3, .dead_letter_queue = dlq});
    q->send(courier::outgoing_message{.body = "poison", .attributes = {{"a", {"String", "b"}}}});
    for (std::uint32_t i = 1; i <= 3; ++i)
    {
        auto m = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
        REQUIRE(m.size() == 1);
        CHECK(m[0].receive_count == i);
        clock->advance(1s);
    }
    auto m = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    CHECK(m.empty());
    CHECK(q->empty());
    CHECK(q->counts().dead_lettered == 1);
    auto dead = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await dlq->receive(1); });
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].body == "poison");
    CHECK(dead[0].attributes.at("a").value == "b");
}

TEST_CASE_FIXTURE(fixture, "memory queue: a FIFO group is locked while one of its messages is in flight")
{
    auto q = queue({.receive_wait = 0s, .fifo = true});
    for (int i = 0; i < 3; ++i)
        q->send(courier::outgoing_message{.body = "a" + std::to_string(i), .group_id = "A"});
    q->send(courier::outgoing_message{.body = "b0", .group_id = "B"});
    auto take = [&](std::size_t n) {
        return run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(n); });
    };
    auto first = take(2); // a0, a1: the same group may come together, in order
    REQUIRE(first.size() == 2);
    CHECK(first[0].body == "a0");
    CHECK(first[1].body == "a1");
    auto second = take(10); // group A is locked: only B
    REQUIRE(second.size() == 1);
    CHECK(second[0].body == "b0");
    run([&]() -> asio::awaitable<void> { co_await q->ack(first[0]); });
    CHECK(take(10).empty()); // a1 still in flight
    run([&]() -> asio::awaitable<void> { co_await q->retry(first[1], 0ms); });
    auto third = take(10);
    REQUIRE(third.size() == 2);
    CHECK(third[0].body == "a1"); // a retried message keeps its place
    CHECK(third[1].body == "a2");
}

TEST_CASE_FIXTURE(fixture, "memory queue: receive long-polls until a message is sent, or until the wait ends")
{
    auto q = queue({.receive_wait = 20s});
    const auto start = clock->now();
    auto empty = run([&]() -> asio::awaitable<std::vector<courier::message>> { co_return co_await q->receive(1); });
    CHECK(empty.empty());
    CHECK(clock->now() - start == 20s);

    std::vector<courier::message> got;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { got = co_await q->receive(5); }, asio::detached);
    io.restart();
    io.poll();
    CHECK(got.empty());
    q->send("late");
    io.restart();
    io.poll();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == "late");
}

TEST_CASE_FIXTURE(fixture, "memory queue: a cancelled receive takes nothing")
{
    auto q = queue({.receive_wait = 20s});
    asio::cancellation_signal signal;
    std::exception_ptr error;
    asio::co_spawn(io, q->receive(1),
                   asio::bind_cancellation_slot(
                       signal.slot(), [&](std::exception_ptr e, std::vector<courier::message>) { error = e; }));
    io.poll();
    signal.emit(asio::cancellation_type::terminal);
    io.restart();
    io.poll();
    CHECK(error);
    q->send("after");
    CHECK(q->counts().visible == 1);
}

TEST_CASE_FIXTURE(fixture, "memory queue: delayed send and bad configuration")
{
    auto q = queue({.receive_wait = 0s});
    q->send(courier::outgoing_message{.body = "later", .delay = 1min});
    CHECK(q->counts().delayed == 1);
    clock->advance(1min);
    CHECK(q->counts().visible == 1);
    CHECK_THROWS_AS(queue({.max_receive_count = 3}), courier::error);
    CHECK_THROWS_AS(queue({.visibility_timeout = 0s}), courier::error);
}
