// File: collector.cpp — sensor readings from a route into a collector queue.
//
//     collector [--queue-url URL [--endpoint URL] [--region R]] [--out FILE]
//
// Readings ({"sensor": "s-1", "celsius": 21.5}) arrive on a route: the in-memory queue by
// default, an SQS queue with --queue-url. The example first publishes a dozen readings to
// that queue (two out of range, one malformed), then consumes them. Each reading goes by
// topic to three collectors:
//   file-appender    appends it to a file opened in its lifecycle setup, closed in teardown;
//   running-average  keeps a running average per sensor in its context;
//   range-check      rejects readings outside [-40, 85] °C with an Error.
// A message is acknowledged only when all three returned Ok. The error handler drops
// (acks) what retrying cannot fix: malformed bodies and out-of-range readings. The example
// prints every reading's results, stops gracefully once all are settled (the route first,
// then the collectors, whose teardown closes the file) and exits 0.
#include <courier/collector.hpp>
#include <courier/courier.hpp>

#include <boost/asio/io_context.hpp>

#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

namespace asio = boost::asio;
namespace ec = courier::event_collector;

struct reading
{
    std::string sensor;
    double celsius = 0;
};
BOOST_DESCRIBE_STRUCT(reading, (), (sensor, celsius))

bool plausible(const reading& r)
{
    return r.celsius >= -40 && r.celsius <= 85;
}

// ---- the three collectors ----

struct reading_file
{
    std::ofstream out;
    std::size_t lines = 0;
};

ec::collector<reading> file_appender(std::filesystem::path path)
{
    ec::lifecycle life{.setup = [path](ec::context& ctx) -> asio::awaitable<void> {
                           auto& file = ctx.emplace<reading_file>();
                           file.out.open(path, std::ios::app);
                           if (!file.out)
                               throw std::runtime_error("cannot open " + path.string());
                           co_return;
                       },
                       .teardown = [path](ec::context& ctx) -> asio::awaitable<void> {
                           auto& file = ctx.get<reading_file>();
                           file.out.close();
                           fmt::print("file-appender: closed {} after {} line(s)\n", path.string(), file.lines);
                           co_return;
                       }};
    return ec::collector<reading>("file-appender",
                                  [](const ec::payload<reading>& p, ec::context& ctx) -> asio::awaitable<ec::result> {
                                      auto& file = ctx.get<reading_file>();
                                      file.out << p.value.sensor << ',' << p.value.celsius << '\n' << std::flush;
                                      if (!file.out)
                                          co_return ec::error(std::runtime_error("writing the readings file failed"));
                                      co_return ec::ok(++file.lines);
                                  },
                                  {.topics = {"sensor-readings"}, .lifecycle = std::move(life)});
}

struct per_sensor
{
    std::map<std::string, std::pair<double, int>> sums; // sensor -> (sum, count)
};

ec::collector<reading> running_average()
{
    auto ctx = std::make_shared<ec::context>();
    ctx->emplace<per_sensor>();
    return ec::collector<reading>("running-average",
                                  [](const ec::payload<reading>& p, ec::context& ctx) -> asio::awaitable<ec::result> {
                                      if (!plausible(p.value))
                                          co_return ec::ok(); // range-check reports it; it must not skew the average
                                      auto& [sum, count] = ctx.get<per_sensor>().sums[p.value.sensor];
                                      sum += p.value.celsius;
                                      co_return ec::ok(sum / ++count);
                                  },
                                  {.topics = {"sensor-readings"}, .context = ctx});
}

ec::collector<reading> range_check()
{
    return ec::collector<reading>(
        "range-check",
        [](const ec::payload<reading>& p) -> asio::awaitable<ec::result> {
            if (!plausible(p.value))
                co_return ec::error(std::out_of_range(fmt::format("{} °C is outside [-40, 85] °C", p.value.celsius)));
            co_return ec::ok();
        },
        {.topics = {"sensor-readings", "alarms"}});
}

// ---- printing ----

std::string show(const ec::result& r)
{
    if (r.is_error())
        return fmt::format("{} ERROR {}", r.key(), r.error_message());
    if (const auto* line = std::any_cast<std::size_t>(&r.value()))
        return fmt::format("{} ok (line {})", r.key(), *line);
    if (const auto* average = std::any_cast<double>(&r.value()))
        return fmt::format("{} ok (average {:.2f} °C)", r.key(), *average);
    return r.key() + " ok";
}

struct options
{
    std::string queue_url;
    courier::sqs_client_options sqs;
    std::filesystem::path out = std::filesystem::temp_directory_path() / "courier-collector-readings.csv";
};

options parse_flags(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; i += 2)
    {
        const std::string flag = argv[i];
        if (i + 1 >= argc)
            throw std::invalid_argument(flag + " needs a value");
        const std::string value = argv[i + 1];
        if (flag == "--queue-url")
            o.queue_url = value;
        else if (flag == "--endpoint")
            o.sqs.aws.endpoint = value;
        else if (flag == "--region")
            o.sqs.aws.region = value;
        else if (flag == "--out")
            o.out = value;
        else
            throw std::invalid_argument("unknown flag " + flag);
    }
    return o;
}

int main_impl(int argc, char** argv)
{
    const auto o = parse_flags(argc, argv);
    asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO); // one thread, as courier::manager builds it
    courier::manager mgr(io);

    ec::collector_queue<reading> collectors(io.get_executor(), {file_appender(o.out), running_average(), range_check()},
                                            {.name = "sensors", .min_consumers = 1, .max_consumers = 4});

    // Where readings come from, and how the example puts its own there first.
    std::shared_ptr<courier::provider> source;
    std::shared_ptr<courier::publisher> producer;
    if (o.queue_url.empty())
    {
        auto memory = std::make_shared<courier::memory_provider>(
            courier::memory_queue_options{.name = "readings", .receive_wait = std::chrono::milliseconds(100)});
        source = memory;
        producer = memory;
    }
    else
    {
        auto sqs = std::make_shared<courier::sqs_client>(io.get_executor(), o.sqs);
        source = courier::make_sqs_provider(sqs, {.queue_url = o.queue_url, .wait_time = std::chrono::seconds(1)});
        producer = courier::make_sqs_publisher(sqs, o.queue_url);
    }

    const std::vector<std::string> bodies = {
        R"({"sensor":"s-1","celsius":21.5})",  R"({"sensor":"s-2","celsius":19.0})",
        R"({"sensor":"s-1","celsius":22.5})",  R"({"sensor":"s-3","celsius":140.0})",
        R"({"sensor":"s-2","celsius":19.5})",  R"({"sensor":"s-1","celsius":23.0})",
        R"({"sensor":"s-3","celsius":-7.25})", R"({"sensor":"s-2","celsius":"warm"})",
        R"({"sensor":"s-3","celsius":-6.75})", R"({"sensor":"s-1","celsius":-55.0})",
        R"({"sensor":"s-2","celsius":20.5})",  R"({"sensor":"s-3","celsius":-7.0})"};
    std::size_t settled = 0;

    mgr.add_route("readings", source, courier::json<reading>{},
                  ec::feed_collectors(
                      collectors.get_publisher(),
                      [](reading r, const courier::context&) {
                          return ec::payload<reading>{
                              .value = std::move(r), .delivery = ec::delivery::topic, .topics = {"sensor-readings"}};
                      },
                      [&](const courier::context& ctx, const ec::result_list& results) {
                          std::string line;
                          for (const auto& r : results)
                              line += (line.empty() ? "" : " | ") + show(r);
                          fmt::print("{:<34} {}\n", ctx.raw().body, line);
                          if (results.all_ok())
                              ++settled;
                      }),
                  {.on_error = [&](const courier::context& ctx, std::exception_ptr e) {
                      // Retrying cannot fix a malformed body or an impossible reading: drop them. Anything
                      // else (the file could not be written) is retried.
                      const auto* failed = ec::find_collectors_failed(e);
                      const bool rejected = failed != nullptr && failed->failures().size() == 1 &&
                                            failed->failures().front().key() == "range-check";
                      if (rejected || courier::is_translation_error(e))
                      {
                          fmt::print("{:<34} dropped: {}\n", ctx.raw().body, courier::error_text(e));
                          ++settled;
                          return courier::error_action::ack();
                      }
                      return courier::retry_with_backoff()(ctx, e);
                  }});

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await collectors.start(); // the file is open before the first reading is taken
            for (const auto& body : bodies)
            {
                courier::outgoing_message m{.body = body};
                co_await producer->publish(std::move(m));
            }
            courier::memory_provider* memory = dynamic_cast<courier::memory_provider*>(source.get());
            while (settled < bodies.size() || (memory != nullptr && !memory->empty()))
                co_await courier::steady_clock()->sleep_for(std::chrono::milliseconds(20));
            mgr.stop(); // as SIGTERM would: the route stops, its handlers finish
        },
        [&](std::exception_ptr e) {
            if (e)
            {
                std::cerr << "collector: " << courier::error_text(e) << '\n';
                mgr.stop_now();
            }
        });

    int code = mgr.run();
    // The route has stopped: stop the collectors (what is left drains, teardowns run).
    asio::co_spawn(io, collectors.stop(), [&](std::exception_ptr e) {
        if (e)
        {
            std::cerr << "collector: " << courier::error_text(e) << '\n';
            code = 1;
        }
    });
    io.restart();
    io.run();

    const auto s = collectors.stats();
    fmt::print("{} reading(s) processed, {} result error(s); exit code {}\n", s.completed, s.errors, code);
    return code;
}

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const std::invalid_argument& e)
    {
        std::cerr << "collector: " << e.what() << " (usage: top of collector.cpp)\n";
        return 2;
    }
    catch (const std::exception& e)
    {
        // courier::error's what() carries the context: queue, route, message, server.
        std::cerr << "collector: " << e.what() << '\n';
    }
    return 1;
}
