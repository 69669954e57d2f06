// In-memory ceiling: messages through route -> translator -> handler -> ack on the
// in-memory queue, one thread, beside a bare Asio loop doing the same per-message
// co_spawn/await/ack bookkeeping by hand (one co_spawn per message, and with worker
// coroutines as courier does it). Prints one JSON line per variant.
//
// Two more variants decode a small JSON event: a plain route with `json<T>`
// (courier-json) and an event router finding the event by its name attribute and running
// its one listener (courier-events); the difference is what dispatching by name costs.
// Every line counts heap allocations per message (the global operator new is counted).
//
//   build/bench/memory_throughput [messages] [bare|bare-workers|courier|json|events]   (default 200000, all)
#include <courier/courier.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <new>
#include <sys/resource.h>

namespace {
std::atomic<std::uint64_t> allocations{0};
}

void* operator new(std::size_t size)
{
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept
{
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept
{
    std::free(p);
}

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

// What a variant measures: wall time, CPU time and allocations from construction to `report`.
struct measurement
{
    double cpu0 = cpu_seconds();
    std::uint64_t allocations0 = allocations.load();
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

void report(const char* variant, std::size_t n, const measurement& m)
{
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m.t0).count();
    const double cpu = cpu_seconds() - m.cpu0;
    const double allocs = static_cast<double>(allocations.load() - m.allocations0);
    fmt::print(
        R"({{"variant":"{}","messages":{},"seconds":{:.4f},"msgs_per_s":{:.0f},"ns_per_msg":{:.1f},"cpu_ns_per_msg":{:.1f},"allocs_per_msg":{:.2f}}})"
        "\n",
        variant, n, seconds, n / seconds, seconds * 1e9 / n, cpu * 1e9 / n, allocs / n);
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
    const measurement m;
    asio::co_spawn(io, d.run(), asio::detached);
    io.run();
    report("courier-memory", n, m);
    if (handled != n || !queue->empty())
        std::exit(1);
}

struct lead_created
{
    static constexpr courier::event_options courier_event{.name = "lead.created"};
    std::string id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email))

// A route decoding the same event: by `json<T>` (a plain route), or by an event router that
// reads the name from the `event_name` attribute first. One thread, as above.
void run_courier_typed(std::size_t n, bool by_event_name)
{
    asio::io_context io(one_thread);
    auto queue = std::make_shared<courier::memory_provider>(
        courier::memory_queue_options{.receive_wait = std::chrono::milliseconds(0)});
    for (std::size_t i = 0; i < n; ++i)
        queue->send(courier::outgoing_message{.body = R"({"id":"L1","email":"a@example.com"})",
                                              .attributes = {{"event_name", {"String", "lead.created"}}}});
    std::size_t handled = 0;
    courier::dispatcher* d_ptr = nullptr;
    auto handle = [&](const lead_created& lead) -> asio::awaitable<void> {
        handled += lead.id.size() == 2;
        if (handled == n)
            d_ptr->stop();
        co_return;
    };
    const courier::route_options options{.max_in_flight = 100, .receive_batch = 100, .heartbeat = false};
    std::vector<courier::route> routes;
    if (by_event_name)
    {
        courier::event_router router;
        router.listen<lead_created>("count", handle);
        routes.emplace_back("bench", queue, router, options);
    }
    else
        routes.emplace_back("bench", queue, courier::json<lead_created>{}, handle, options);
    courier::dispatcher d(io.get_executor(), std::move(routes), {.log = courier::logger(courier::log_level::off)});
    d_ptr = &d;
    const measurement m;
    asio::co_spawn(io, d.run(), asio::detached);
    io.run();
    report(by_event_name ? "courier-events" : "courier-json", n, m);
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
    const measurement m;
    asio::co_spawn(io, loop(), asio::detached);
    io.run();
    report("bare-asio", n, m);
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
    const measurement m;
    asio::co_spawn(io, worker(), asio::detached);
    io.run();
    report("bare-asio-workers", n, m);
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
    if (only.empty() || only == "json")
        run_courier_typed(n, false);
    if (only.empty() || only == "events")
        run_courier_typed(n, true);
    return 0;
}
