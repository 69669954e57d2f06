// Collector queue throughput: payloads through `collector_queue` to trivial collectors, one
// thread, beside a bare Asio hand-off (an experimental::channel between a producer and a
// consumer coroutine that awaits the same trivial processor). Prints one JSON line per
// variant.
//
//   build/bench/collector_throughput [payloads] [variant]   (default 400000, all variants)
//
// Variants: collector-1 (one collector, one consumer), collector-8-consumers (one
// collector, up to 8 consumers), broadcast-8 (8 collectors, every payload to all),
// priority-10000 (the priority queue kept at 10,000 waiting payloads, random priorities),
// bare-asio-handoff. The producer sends from the queue's executor, fire and forget, into a
// queue with a capacity of 1,024 (10,000 for the priority case), so it waits for room as
// a real producer would; the timing ends when the graceful stop has drained the queue.
#include <courier/collector.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string_view>
#include <sys/resource.h>

namespace asio = boost::asio;
namespace ec = courier::event_collector;

// One thread, with the hint courier::manager uses for one thread: the io_context is the
// queue's executor (no strand), as in a one-thread service.
constexpr int one_thread = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;

namespace {

double cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void report(std::string_view variant, std::size_t n, std::chrono::steady_clock::duration wall, double cpu)
{
    const double seconds = std::chrono::duration<double>(wall).count();
    fmt::print(
        R"({{"variant":"{}","payloads":{},"seconds":{:.4f},"payloads_per_s":{:.0f},"cpu_ns_per_payload":{:.1f}}})"
        "\n",
        variant, n, seconds, n / seconds, cpu * 1e9 / n);
    std::fflush(stdout);
}

// The trivial processor every variant runs: a coroutine that returns a value.
asio::awaitable<ec::result> process(const ec::payload<int>& p)
{
    co_return ec::ok(p.value);
}

struct case_options
{
    std::size_t collectors = 1;
    std::size_t max_consumers = 1;
    ec::queue_type type = ec::queue_type::fifo;
    std::size_t capacity = 1024;
};

void run_queue(std::string_view variant, std::size_t n, case_options c)
{
    asio::io_context io(one_thread);
    std::size_t processed = 0;
    std::vector<ec::collector<int>> collectors;
    for (std::size_t i = 0; i < c.collectors; ++i)
        collectors.emplace_back(fmt::format("c{}", i), [&processed](const ec::payload<int>& p) {
            ++processed;
            return process(p);
        });
    ec::collector_queue<int> queue(io.get_executor(), std::move(collectors),
                                   {.min_consumers = 1,
                                    .max_consumers = c.max_consumers,
                                    .queue_type = c.type,
                                    .capacity = c.capacity,
                                    .log = courier::logger(courier::log_level::off)});
    std::minstd_rand random(42);
    std::uniform_int_distribution<int> priorities(0, 1000);
    const bool prioritised = c.type == ec::queue_type::priority;
    std::chrono::steady_clock::time_point t0;
    double cpu0 = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await queue.start();
            auto publisher = queue.get_publisher();
            if (prioritised)
            {
                // Fill to the capacity first: the timed part runs with 10,000 waiting.
                for (std::size_t i = 0; i < c.capacity; ++i)
                {
                    ec::payload<int> p{.value = -1, .priority = priorities(random)};
                    co_await publisher.send(std::move(p));
                }
            }
            cpu0 = cpu_seconds();
            t0 = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < n; ++i)
            {
                ec::payload<int> p{.value = static_cast<int>(i)};
                if (prioritised)
                    p.priority = priorities(random);
                co_await publisher.send(std::move(p));
            }
            co_await queue.stop();
        },
        asio::detached);
    io.run();
    report(variant, n, std::chrono::steady_clock::now() - t0, cpu_seconds() - cpu0);
    const auto expected = (n + (prioritised ? c.capacity : 0)) * c.collectors;
    if (processed != expected || queue.stats().errors != 0)
    {
        fmt::print(stderr, "{}: processed {}, expected {}\n", variant, processed, expected);
        std::exit(1);
    }
}

// The same hand-off with nothing but an Asio channel: a producer sends, a consumer receives
// and awaits the processor.
void run_bare(std::size_t n)
{
    using channel = asio::experimental::channel<void(boost::system::error_code, ec::payload<int>)>;
    asio::io_context io(one_thread);
    channel ch(io, 1024);
    std::size_t processed = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < n; ++i)
            {
                ec::payload<int> p{.value = static_cast<int>(i)};
                co_await ch.async_send(boost::system::error_code{}, std::move(p), asio::use_awaitable);
            }
            ch.close();
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (;;)
            {
                auto [ec, p] = co_await ch.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                auto r = co_await process(p);
                processed += r.is_ok();
            }
        },
        asio::detached);
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    io.run();
    report("bare-asio-handoff", n, std::chrono::steady_clock::now() - t0, cpu_seconds() - cpu0);
    if (processed != n)
        std::exit(1);
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 400000;
    // One variant alone is for profilers (perf, callgrind).
    const std::string_view only = argc > 2 ? argv[2] : "";
    const auto wanted = [&](std::string_view v) { return only.empty() || only == v; };
    if (wanted("bare-asio-handoff"))
        run_bare(n);
    if (wanted("collector-1"))
        run_queue("collector-1", n, {});
    if (wanted("collector-8-consumers"))
        run_queue("collector-8-consumers", n, {.max_consumers = 8});
    if (wanted("broadcast-8"))
        run_queue("broadcast-8", n / 4, {.collectors = 8});
    if (wanted("priority-10000"))
        run_queue("priority-10000", n, {.type = ec::queue_type::priority, .capacity = 10000});
    return 0;
}
