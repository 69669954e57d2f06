// The README's collector queue samples, compiled and run: if the README drifts from the
// API, this file stops building.
#include "collector_support.hpp"

namespace readme {

// ---- as in README.md, "The collector queue" ----
namespace ec = courier::event_collector;
namespace asio = boost::asio;

struct reading
{
    std::string sensor;
    double celsius = 0;
};
BOOST_DESCRIBE_STRUCT(reading, (), (sensor, celsius))

struct sensor_repository
{
    std::vector<reading> saved;
}; // your own storage

// A processor returns Ok(value) or Error(exception); an exception it throws becomes an Error.
asio::awaitable<ec::result> store(const ec::payload<reading>& p, ec::context& ctx)
{
    ctx.get<sensor_repository>().saved.push_back(p.value);
    co_return ec::ok(p.value.celsius);
}

asio::awaitable<ec::result_list> demo(asio::any_io_executor executor)
{
    ec::lifecycle life{// setup before any consumer, teardown at stop
                       .setup = [](ec::context& ctx) -> asio::awaitable<void> {
                           ctx.emplace<sensor_repository>();
                           co_return;
                       },
                       .teardown = [](ec::context& ctx) -> asio::awaitable<void> {
                           ctx.erase<sensor_repository>();
                           co_return;
                       }};
    ec::collector<reading> collector("demo-collector", store,
                                     {.topics = {"sensor-data", "temperature"}, .lifecycle = life});

    ec::collector_queue<reading> queue(executor, {collector}, {.min_consumers = 1, .max_consumers = 1000});
    co_return co_await queue.while_running( // the seed's `async with`
        [](ec::event_publisher<reading> publisher) -> asio::awaitable<ec::result_list> {
            ec::payload<reading> p{.value = {"s-1", 21.5}, .delivery = ec::delivery::topic, .topics = {"sensor-data"}};
            ec::collector_event event = co_await publisher.send(std::move(p));
            ec::result_list results = co_await event.wait(); // event.get_result(): nothing until done
            for (const ec::result& r : results)
                if (r.is_error())
                    fmt::print("{} failed: {}\n", r.key(), r.error_message());
            co_return results; // results.first().value<double>() == 21.5
        });
}

// ---- the route bridge sample, in a function ----
void add_sensor_route(courier::manager& mgr, std::shared_ptr<courier::provider> source,
                      ec::collector_queue<reading>& queue)
{
    mgr.add_route("sensors", source, courier::json<reading>{},
                  ec::feed_collectors(queue.get_publisher(),
                                      [](reading r, const courier::context&) {
                                          return ec::payload<reading>{.value = std::move(r),
                                                                      .delivery = ec::delivery::topic,
                                                                      .topics = {"sensor-data"}};
                                      }),
                  {.on_error = [](const courier::context& ctx, std::exception_ptr e) {
                      if (const auto* failed = ec::find_collectors_failed(e))
                          for (const auto& r : failed->failures())
                              ctx.log(courier::log_level::warning, "collector {}: {}", r.key(), r.error_message());
                      return courier::error_action::retry_after(std::chrono::seconds(30));
                  }});
}

} // namespace readme

using namespace courier_test;

TEST_CASE_FIXTURE(collector_fixture, "collector readme: the seed's example")
{
    const auto results = run([&] { return readme::demo(io.get_executor()); });
    REQUIRE(results.size() == 1);
    CHECK(results.first().key() == "demo-collector");
    CHECK(results.first().value<double>() == 21.5);
}

// Real time: the manager runs the io_context itself. It takes about 0.1 s; no limit is
// asserted, only that it ends with every message acknowledged.
TEST_CASE("collector readme: the route bridge sample acks what every collector took")
{
    asio::io_context io;
    auto source = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 50ms});
    source->send(R"({"sensor":"s-1","celsius":21.5})");
    source->send(R"({"sensor":"s-2","celsius":19})");
    auto repository = std::make_shared<ec::context>();
    repository->emplace<readme::sensor_repository>();
    ec::collector<readme::reading> collector("demo-collector", readme::store,
                                             {.topics = {"sensor-data"}, .context = repository});
    const auto quiet = courier::logger(courier::log_level::off);
    ec::collector_queue<readme::reading> queue(io.get_executor(), {collector}, {.log = quiet});
    courier::manager mgr(io, {.handle_signals = false, .dispatch = {.log = quiet}});
    readme::add_sensor_route(mgr, source, queue);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await queue.start();
            while (!source->empty())
                co_await courier::steady_clock()->sleep_for(10ms);
            mgr.stop();
        },
        asio::detached);
    CHECK(mgr.run() == courier::exit_ok);
    // The route has stopped; now the queue.
    asio::co_spawn(io, queue.stop(), asio::detached);
    io.restart();
    io.run();
    CHECK(repository->get<readme::sensor_repository>().saved.size() == 2);
    CHECK(source->counts().acked == 2);
    CHECK(queue.stats().consumers == 0);
}
