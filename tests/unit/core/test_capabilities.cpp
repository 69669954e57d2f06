// A route on a provider that declares no capability, as a plain broker: no heartbeat, retries
// held by courier and released at their time, leave held for leave_delay, deliveries counted
// by the route, and held messages released at once when the route stops.
#include "../test_support.hpp"

using namespace courier_test;

namespace {

struct broker_fixture : dispatcher_fixture
{
    std::shared_ptr<courier::memory_provider> q = queue({.visibility_timeout = 10h});
    std::shared_ptr<recording_provider> broker = [this] {
        auto p = std::make_shared<recording_provider>(q);
        p->declare_nothing = true;
        return p;
    }();
};

} // namespace

TEST_CASE_FIXTURE(broker_fixture, "capabilities: retry_with_backoff works without delayed retry or delivery counts")
{
    q->send("flaky");
    std::vector<std::uint32_t> counts;
    std::vector<courier::clock::time_point> times;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "broker", broker,
        [&](const courier::message& m) -> asio::awaitable<void> {
            counts.push_back(m.receive_count);
            times.push_back(clock->now());
            if (counts.size() < 3)
                throw std::runtime_error("not yet");
            co_return;
        },
        courier::route_options{.on_error = courier::retry_with_backoff({.base = 1s, .jitter = false})});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(counts == std::vector<std::uint32_t>{1, 2, 3}); // counted by the route
    REQUIRE(times.size() == 3);
    CHECK(times[1] - times[0] >= 1s); // held for base * 2^0, then released
    CHECK(times[2] - times[1] >= 2s);
    CHECK(times[2] - times[0] < 10h); // not the inner queue's visibility timeout
    CHECK(broker->extends == 0);
    CHECK(broker->released.size() == 2);
    CHECK(d.routes()[0].stats().retried == 2);
}

TEST_CASE_FIXTURE(broker_fixture, "capabilities: leave without a visibility timeout redelivers after leave_delay")
{
    q->send("left");
    std::vector<courier::clock::time_point> times;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "broker", broker,
        [&](const courier::message&) -> asio::awaitable<void> {
            times.push_back(clock->now());
            if (times.size() == 1)
                throw std::runtime_error("leave me");
            co_return;
        },
        courier::route_options{.leave_delay = 45s});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    REQUIRE(times.size() == 2);
    CHECK(times[1] - times[0] >= 45s);
    CHECK(times[1] - times[0] < 10h);
    CHECK(d.routes()[0].stats().left == 1);
}

TEST_CASE_FIXTURE(broker_fixture, "capabilities: a stop releases held messages at once")
{
    q->send("held");
    int calls = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "broker", broker,
        [&](const courier::message&) -> asio::awaitable<void> {
            ++calls;
            throw std::runtime_error("again in an hour");
            co_return;
        },
        courier::route_options{.on_error = [](const courier::context&, std::exception_ptr) {
            return courier::error_action::retry_after(1h);
        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    const auto start = clock->now();
    CHECK(run(d, [&] { return calls == 1; }) == courier::stop_kind::graceful);
    CHECK(clock->now() - start < 1min);
    CHECK(broker->released.size() == 1);
    CHECK(q->counts().visible == 1);
}

TEST_CASE_FIXTURE(broker_fixture, "capabilities: a stopping route tells its provider once it stopped receiving, "
                                  "before its handlers finished and before close")
{
    for (int i = 0; i < 6; ++i)
        q->send("slow " + std::to_string(i));
    int started = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "broker", broker,
        [&](const courier::message&) -> asio::awaitable<void> {
            ++started;
            co_await work(*clock, 10s);
        },
        courier::route_options{.max_in_flight = 3});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return started == 3; });
    CHECK(broker->stops_receiving == 1);
    CHECK(broker->closes_at_stop == 0);
    CHECK(broker->acked_at_stop == 0);                   // the three handlers were still running
    CHECK(broker->receives_at_stop == broker->receives); // no receive after it
    CHECK(broker->acked.size() == 3);
    CHECK(broker->closes == 1);
}

TEST_CASE_FIXTURE(broker_fixture, "capabilities: a provider with an executor of its own has its route run there")
{
    for (int i = 0; i < 20; ++i)
        q->send("on its strand " + std::to_string(i));
    broker->own_strand.emplace(asio::make_strand(io));
    int handled = 0, handled_elsewhere = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "broker", broker,
        [&](const courier::message& m) -> asio::awaitable<void> {
            ++handled;
            if (!broker->own_strand->running_in_this_thread())
                ++handled_elsewhere;
            co_await work(*clock, 10ms);
            if (m.body.ends_with(" 3") && m.receive_count == 1)
                throw std::runtime_error("released, to come again");
        },
        courier::route_options{.max_in_flight = 4, .on_error = [](const courier::context&, std::exception_ptr) {
                                   return courier::error_action::release();
                               }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(handled == 21);
    CHECK(handled_elsewhere == 0);
    CHECK(broker->receives > 0);
    CHECK(broker->released.size() == 1);
    CHECK(broker->acked.size() == 20);
    CHECK(broker->calls_elsewhere == 0);
}
