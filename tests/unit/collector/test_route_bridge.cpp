// The bridge from routes: a message is acknowledged only when every collector returned
// Ok; otherwise the route's error handler gets it with the failed collectors' errors.
#include "collector_support.hpp"

using namespace courier_test;

namespace {

struct reading
{
    std::string sensor;
    double celsius = 0;
};
BOOST_DESCRIBE_STRUCT(reading, (), (sensor, celsius))

struct bridge_fixture : collector_fixture
{
    std::vector<std::string> stored;

    std::vector<ec::collector<reading>> collectors()
    {
        return {ec::collector<reading>("store",
                                       [this](const ec::payload<reading>& p) -> asio::awaitable<ec::result> {
                                           co_await clock->sleep_for(1s);
                                           stored.push_back(p.value.sensor);
                                           co_return ec::ok(stored.size());
                                       },
                                       {.topics = {"readings"}}),
                ec::collector<reading>("range",
                                       [](const ec::payload<reading>& p) -> asio::awaitable<ec::result> {
                                           if (p.value.celsius > 85)
                                               co_return ec::error(std::out_of_range(
                                                   fmt::format("{} °C is above 85 °C", p.value.celsius)));
                                           co_return ec::ok();
                                       },
                                       {.topics = {"readings"}})};
    }

    // Runs the collector queue and a dispatcher with `routes` until `until()` holds, then
    // stops the dispatcher, and after it the queue.
    void run_routes(ec::collector_queue<reading>& queue, std::vector<courier::route> routes,
                    std::function<bool()> until)
    {
        courier::dispatcher d(io.get_executor(), std::move(routes), {.clock = clock, .log = logs.make()});
        run([&]() -> asio::awaitable<void> {
            co_await queue.start();
            bool dispatcher_done = false;
            asio::co_spawn(io, d.run(), [&](std::exception_ptr e, courier::stop_kind) {
                CHECK(e == nullptr);
                dispatcher_done = true;
            });
            while (!until())
                co_await clock->sleep_for(100ms);
            d.stop();
            while (!dispatcher_done)
                co_await clock->sleep_for(100ms);
            co_await queue.stop();
        });
    }
};

ec::payload<reading> by_topic(reading r, const courier::context&)
{
    return {.value = std::move(r), .delivery = ec::delivery::topic, .topics = {"readings"}};
}

} // namespace

TEST_CASE_FIXTURE(bridge_fixture, "collector bridge: acked when every collector is Ok, else the error handler decides")
{
    ec::collector_queue<reading> queue(io.get_executor(), collectors(), options());
    auto source = simulated_fixture::queue();
    auto recorder = std::make_shared<recording_provider>(source);
    const auto good = source->send(R"({"sensor":"s-1","celsius":21.5})");
    const auto hot = source->send(R"({"sensor":"s-2","celsius":140})");

    std::vector<std::string> failures;
    std::vector<std::string> observed;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "sensors", recorder, courier::json<reading>{},
        ec::feed_collectors(queue.get_publisher(), by_topic,
                            [&](const courier::context& ctx, const ec::result_list& results) {
                                observed.push_back(fmt::format("{}: {} result(s), {}", ctx.message_id(), results.size(),
                                                               results.all_ok() ? "ok" : "failed"));
                            }),
        courier::route_options{.on_error = [&](const courier::context& ctx, std::exception_ptr e) {
            const auto* failed = ec::find_collectors_failed(e);
            REQUIRE(failed != nullptr);
            for (const auto& r : failed->failures())
                failures.push_back(r.key() + ": " + r.error_message());
            CHECK(failed->results().size() == 2);
            CHECK(failed->code() == ec::errc::collectors_failed);
            CHECK(std::string(failed->what()) ==
                  fmt::format("1 of 2 collectors failed: range: 140 °C is above 85 °C [route=sensors message={}]",
                              ctx.message_id()));
            return courier::error_action::retry_after(1h);
        }});
    run_routes(queue, std::move(routes), [&] { return recorder->acked.size() + recorder->retried.size() == 2; });

    CHECK(recorder->acked == std::vector<std::string>{good});
    CHECK(recorder->retried == std::vector<std::string>{hot}); // not acked: handed to the error handler
    CHECK(failures == std::vector<std::string>{"range: 140 °C is above 85 °C"});
    std::sort(stored.begin(), stored.end());
    CHECK(stored == std::vector<std::string>{"s-1", "s-2"}); // the other collector still got it
    CHECK(observed.size() == 2);
    CHECK(std::count(observed.begin(), observed.end(), good + ": 2 result(s), ok") == 1);
}

TEST_CASE_FIXTURE(bridge_fixture, "collector bridge: a message is not acked before its collectors are done")
{
    ec::collector_queue<reading> queue(io.get_executor(), collectors(), options());
    auto source = simulated_fixture::queue();
    auto recorder = std::make_shared<recording_provider>(source);
    source->send(R"({"sensor":"s-1","celsius":20})");
    std::vector<courier::route> routes;
    routes.emplace_back("sensors", recorder, courier::json<reading>{},
                        ec::feed_collectors(queue.get_publisher(), by_topic));
    bool checked = false;
    run_routes(queue, std::move(routes), [&] {
        // "store" takes 1 s: until then the message is in flight, not acked.
        if (stored.empty())
        {
            checked = true;
            CHECK(recorder->acked.empty());
            return false;
        }
        return recorder->acked.size() == 1;
    });
    CHECK(checked);
    CHECK(recorder->acked.size() == 1);
}

TEST_CASE_FIXTURE(bridge_fixture, "collector bridge: a stopped queue makes the route's error handler get queue_stopped")
{
    ec::collector_queue<reading> queue(io.get_executor(), collectors(), options());
    run([&]() -> asio::awaitable<void> {
        co_await queue.start();
        co_await queue.stop();
    });
    auto source = simulated_fixture::queue();
    auto recorder = std::make_shared<recording_provider>(source);
    source->send(R"({"sensor":"s-1","celsius":20})");
    std::vector<std::error_code> codes;
    std::vector<courier::route> routes;
    // Raw messages, a payload built from the body: the other form of route.
    routes.emplace_back("raw", recorder,
                        ec::feed_collectors(queue.get_publisher(),
                                            [](courier::message m, const courier::context&) {
                                                return ec::payload<reading>{.value = {m.body, 0}};
                                            }),
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            try
                            {
                                std::rethrow_exception(e);
                            }
                            catch (const courier::error& err)
                            {
                                codes.push_back(err.code());
                            }
                            return courier::error_action::retry_after(1h);
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), {.clock = clock, .log = logs.make()});
    run([&]() -> asio::awaitable<void> {
        asio::co_spawn(io, d.run(), asio::detached);
        while (recorder->retried.empty())
            co_await clock->sleep_for(100ms);
        d.stop();
    });
    REQUIRE(codes.size() == 1);
    CHECK(codes[0] == ec::errc::queue_stopped);
    CHECK(recorder->acked.empty());
}
