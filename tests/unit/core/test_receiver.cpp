// The receive loop on its own (room, back-off, surplus) and through a route: polling goes on
// while a slow handler runs, with no round barrier.
#include "../test_support.hpp"
#include "core/receiver.hpp"

#include <deque>

using namespace courier_test;

namespace {

// A provider that returns scripted batches (or failures) and records what was asked.
class scripted_provider final : public courier::provider
{
public:
    std::string name() const override { return "scripted"; }
    asio::awaitable<std::vector<courier::message>> receive(std::size_t max) override
    {
        asked.push_back(max);
        if (script.empty())
        {
            co_await clock->sleep_for(1h);
            co_return std::vector<courier::message>{};
        }
        auto next = std::move(script.front());
        script.pop_front();
        if (!next)
            throw courier::error(courier::errc::transport_failed, "scripted failure");
        co_return std::move(*next);
    }
    asio::awaitable<void> ack(const courier::message&) override { co_return; }
    asio::awaitable<void> release(const courier::message& m) override
    {
        released.push_back(m.id);
        co_return;
    }
    asio::awaitable<void> close() override { co_return; }

    std::shared_ptr<courier::clock> clock;
    std::deque<std::optional<std::vector<courier::message>>> script;
    std::vector<std::size_t> asked;
    std::vector<std::string> released;
};

std::vector<courier::message> batch(int from, int n)
{
    std::vector<courier::message> out;
    for (int i = from; i < from + n; ++i)
        out.push_back({.id = "m" + std::to_string(i)});
    return out;
}

struct sink final : courier::detail::message_sink
{
    void received(courier::message&& msg, courier::clock::time_point) override { ids.push_back(msg.id); }
    void failed_for_good(std::exception_ptr error) override { permanent = courier::error_text(error); }
    std::vector<std::string> ids;
    std::string permanent;
};

} // namespace

TEST_CASE_FIXTURE(simulated_fixture,
                  "receiver: asks for the room there is, backs off after failures, gives the surplus back")
{
    scripted_provider source;
    source.clock = clock;
    source.script.push_back(batch(0, 3));
    source.script.push_back(std::nullopt);
    source.script.push_back(std::nullopt);
    source.script.push_back(batch(3, 6)); // one more than asked
    courier::detail::room space(8, nullptr);
    sink to;
    const auto log = logs.make();
    const std::string route = "r";
    courier::detail::route_counters counters;
    courier::detail::metrics::route_metrics metrics;
    const courier::route_options options{.receive_batch = 5, .receive_error_backoff = 100ms};
    bool stopping = false;
    std::vector<courier::clock::time_point> receive_times;
    asio::co_spawn(
        io,
        courier::detail::receive_loop(
            {source, space, to, *clock, {log, route}, counters, metrics, options, io.get_executor()}, stopping),
        asio::detached);
    const auto start = clock->now();
    clock->run(io, 10min);
    // 5 asked, 3 came: 5 more asked (2 + 3 free), twice failing with 100 ms then 200 ms
    // pauses, then 5 asked and 6 came: the sixth is released, nothing more fits.
    CHECK(source.asked == std::vector<std::size_t>{5, 5, 5, 5});
    CHECK(to.ids == std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"});
    CHECK(source.released == std::vector<std::string>{"m8"});
    CHECK(counters.provider_errors == 2);
    CHECK(counters.received == 9);
    CHECK(logs.count("receive failed: scripted failure") == 2);
    CHECK(logs.contains("retrying in 100 ms"));
    CHECK(logs.contains("retrying in 200 ms"));
    CHECK(to.permanent.empty()); // transport failures are retried
    CHECK_FALSE(metrics.last_receive_failed());
    CHECK(metrics.provider_errors() == std::map<std::string, std::uint64_t>{{"transport_failed", 2}});
    (void)start;
    // The loop now waits for room: stop it.
    stopping = true;
    space.give_back(1);
    CHECK(clock->run(io, 2h));
}

TEST_CASE_FIXTURE(dispatcher_fixture, "receiver: polling goes on while a slow handler runs; no round barrier")
{
    auto q = queue();
    auto recorder = std::make_shared<recording_provider>(q);
    for (int i = 0; i < 30; ++i)
        q->send(i == 0 ? "slow" : "fast");
    int fast_done = 0;
    bool slow_done = false;
    int fast_done_while_slow_ran = 0;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "mixed", recorder,
        [&](const courier::message& m) -> asio::awaitable<void> {
            if (m.body == "slow")
            {
                co_await work(*clock, 1h);
                slow_done = true;
                co_return;
            }
            co_await work(*clock, 1s);
            ++fast_done;
            if (!slow_done)
                ++fast_done_while_slow_ran;
        },
        courier::route_options{.max_in_flight = 20, .receive_batch = 5});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(fast_done == 29);
    CHECK(fast_done_while_slow_ran == 29);           // every fast one finished while the slow one ran
    CHECK(d.routes()[0].stats().in_flight_peak > 5); // more than one receive's worth at once
    CHECK(recorder->receives > 6);
}
