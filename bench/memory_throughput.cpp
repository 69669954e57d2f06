// In-memory ceiling: messages through route -> translator -> handler -> ack on the
// in-memory queue, one thread, beside a bare Asio loop doing the same per-message
// co_spawn/await/ack bookkeeping by hand (one co_spawn per message, and with worker
// coroutines as courier does it). Prints one JSON line per variant.
//
//   build/bench/memory_throughput [messages] [bare|bare-workers|courier]   (default 200000, all)
#include <courier/courier.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <sys/resource.h>

namespace asio = boost::asio;

// Every variant runs on one thread, with the hint courier::manager uses for one thread
// (no I/O locks; no strands in courier).
constexpr int one_thread = BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO;

namespace {

double cpu_seconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void report(const char* variant, std::size_t n, std::chrono::steady_clock::duration wall, double cpu)
{
    const double seconds = std::chrono::duration<double>(wall).count();
    fmt::print(
        R"({{"variant":"{}","messages":{},"seconds":{:.4f},"msgs_per_s":{:.0f},"ns_per_msg":{:.1f},"cpu_ns_per_msg":{:.1f}}})"
        "\n",
        variant, n, seconds, n / seconds, seconds * 1e9 / n, cpu * 1e9 / n);
}

// courier: a dispatcher with one route on the in-memory queue.
void run_courier(std::size_t n)
{
    asio::io_context io(one_thread);
    auto queue = std::make_shared<courier::memory_provider>(
        courier::memory_queue_options{.receive_wait = std::chrono::milliseconds(0)});
    for (std::size_t i = 0; i < n; ++i)
        queue->send("m");
    std::size_t handled = 0;
    std::vector<courier::route> routes;
    courier::dispatcher* d_ptr = nullptr;
    routes.emplace_back(
        "bench", queue,
        [&](const courier::message&) -> asio::awaitable<void> {
            if (++handled == n)
                d_ptr->stop();
            co_return;
        },
        courier::route_options{.max_in_flight = 100, .receive_batch = 100, .heartbeat = false});
    courier::dispatcher d(io.get_executor(), std::move(routes), {.log = courier::logger(courier::log_level::off)});
    d_ptr = &d;
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(io, d.run(), asio::detached);
    io.run();
    report("courier-memory", n, std::chrono::steady_clock::now() - t0, cpu_seconds() - cpu0);
    if (handled != n || !queue->empty())
        std::exit(1);
}

// Bare Asio: a deque as the queue, one coroutine per message, an ack that erases a map
// entry: the bookkeeping courier does, without its abstractions.
void run_bare(std::size_t n)
{
    asio::io_context io(one_thread);
    std::deque<std::string> queue(n, "m");
    std::unordered_map<std::size_t, std::string> in_flight;
    std::size_t handled = 0, next_id = 0;
    auto handle = [&](std::size_t id) -> asio::awaitable<void> {
        ++handled;
        in_flight.erase(id); // ack
        co_return;
    };
    auto loop = [&]() -> asio::awaitable<void> {
        while (!queue.empty())
        {
            for (int i = 0; i < 100 && !queue.empty(); ++i)
            {
                const auto id = next_id++;
                in_flight.emplace(id, std::move(queue.front()));
                queue.pop_front();
                asio::co_spawn(io, handle(id), asio::detached);
            }
            co_await asio::post(io, asio::use_awaitable);
        }
    };
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(io, loop(), asio::detached);
    io.run();
    report("bare-asio", n, std::chrono::steady_clock::now() - t0, cpu_seconds() - cpu0);
    if (handled != n)
        std::exit(1);
}

// Bare Asio, the way courier now runs messages: a fixed set of worker coroutines take
// messages from a deque one after the other and await the handler coroutine; the ack
// erases a hash-map entry. No co_spawn per message.
void run_bare_workers(std::size_t n)
{
    asio::io_context io(one_thread);
    std::deque<std::pair<std::size_t, std::string>> ready;
    std::unordered_map<std::size_t, std::string> in_flight;
    std::size_t handled = 0, next_id = 0, produced = 0;
    auto handle = [&](const std::string&) -> asio::awaitable<void> {
        ++handled;
        co_return;
    };
    auto worker = [&]() -> asio::awaitable<void> {
        while (handled < n)
        {
            if (ready.empty())
            {
                // "Receive" a batch of 100 into the in-flight map.
                for (int i = 0; i < 100 && produced < n; ++i, ++produced)
                {
                    const auto id = next_id++;
                    in_flight.emplace(id, "m");
                    ready.emplace_back(id, "m");
                }
                co_await asio::post(io, asio::use_awaitable);
                continue;
            }
            auto [id, body] = std::move(ready.front());
            ready.pop_front();
            co_await handle(body);
            in_flight.erase(id); // ack
        }
    };
    const auto cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(io, worker(), asio::detached);
    io.run();
    report("bare-asio-workers", n, std::chrono::steady_clock::now() - t0, cpu_seconds() - cpu0);
    if (handled != n)
        std::exit(1);
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
    // One variant alone is for profilers (perf, callgrind).
    const std::string_view only = argc > 2 ? argv[2] : "";
    if (only.empty() || only == "bare")
        run_bare(n);
    if (only.empty() || only == "bare-workers")
        run_bare_workers(n);
    if (only.empty() || only == "courier")
        run_courier(n);
    return 0;
}
