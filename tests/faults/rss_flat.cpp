// rss_flat: a long consume through the in-memory provider while the process samples its
// own resident set (VmRSS), to show memory stays bounded under sustained load.
//
// A producer keeps a backlog of a few thousand JSON messages in a `memory_provider`; one
// route decodes them (`courier::json<T>`) and handles them with 64 in flight, so every
// per-message path of the core runs millions of times: receive, dispatch, translate, handle,
// ack. VmRSS is sampled every 100 ms. After the run the samples are cut in quarters and the
// test fails if the last quarter's highest RSS exceeds the first quarter's highest by more
// than --margin-kib (default 4096): a steady leak of even a few bytes per message, times
// millions of messages, lands far above that, while allocator noise stays well below it.
// The first quarter is measured after a warm-up (--warmup-s) so pools, the io_context and
// the queue's own storage have reached their working size.
//
// It cannot pass by accident: it also fails unless it handled at least --min-messages
// (default 300000) and took at least 20 samples; and `--leak-bytes N --expect-growth 1` (the
// meson test `rss-flat-detects-leak`) makes the handler keep N bytes per message and passes
// only if the check reports the growth, proving it catches a leak of that size. (meson's
// should_fail would also pass on a crash; this passes only on a measured, detected leak.)
//
// Usage: rss_flat [--seconds S=16] [--warmup-s S=2] [--margin-kib K=4096]
//                 [--min-messages N=300000] [--leak-bytes N=0] [--expect-growth 0|1]
// Prints one JSON line; exit status 0 flat, 1 grew (or too little work), 2 bad arguments.
#include <courier/courier.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct rss_body
{
    std::int64_t seq = 0;
    std::string pad;
};
BOOST_DESCRIBE_STRUCT(rss_body, (), (seq, pad))

std::int64_t vm_rss_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmRSS:"))
            return std::stoll(line.substr(6)); // "VmRSS:    12345 kB"
    return -1;
}

struct settings
{
    std::chrono::milliseconds duration{16'000};
    std::chrono::milliseconds warmup{2'000};
    std::int64_t margin_kib = 4096;
    std::uint64_t min_messages = 300'000;
    std::size_t leak_bytes = 0;
    bool expect_growth = false;
};

settings parse(int argc, char** argv)
{
    settings s;
    for (int i = 1; i + 1 < argc; i += 2)
    {
        const std::string_view name = argv[i];
        const long long v = std::stoll(argv[i + 1]);
        if (v < 0)
            throw std::invalid_argument("negative value for " + std::string(name));
        if (name == "--seconds")
            s.duration = std::chrono::seconds(v);
        else if (name == "--warmup-s")
            s.warmup = std::chrono::seconds(v);
        else if (name == "--margin-kib")
            s.margin_kib = v;
        else if (name == "--min-messages")
            s.min_messages = static_cast<std::uint64_t>(v);
        else if (name == "--leak-bytes")
            s.leak_bytes = static_cast<std::size_t>(v);
        else if (name == "--expect-growth")
            s.expect_growth = v != 0;
        else
            throw std::invalid_argument("unknown flag " + std::string(name));
    }
    if (argc % 2 == 0)
        throw std::invalid_argument("flags come in pairs: --name value");
    return s;
}

int run(const settings& cfg)
{
    asio::io_context io;
    courier::manager mgr(io,
                         {.handle_signals = false, .dispatch = {.log = courier::logger(courier::log_level::warning)}});
    auto queue =
        std::make_shared<courier::memory_provider>(courier::memory_queue_options{.name = "rss", .receive_wait = 50ms});

    std::uint64_t handled = 0;
    std::vector<std::unique_ptr<char[]>> leaked; // only with --leak-bytes
    mgr.add_route("rss", queue, courier::json<rss_body>{},
                  [&](rss_body body, courier::context&) -> asio::awaitable<void> {
                      if (body.pad.size() != 100)
                          throw std::runtime_error("corrupted body");
                      ++handled;
                      if (cfg.leak_bytes > 0)
                      {
                          // Touched, so the pages are resident: a real leak, not reserved address space.
                          leaked.emplace_back(new char[cfg.leak_bytes]);
                          std::memset(leaked.back().get(), 0x5a, cfg.leak_bytes);
                      }
                      co_return;
                  },
                  {.max_in_flight = 64});

    // The producer keeps 2,000-4,000 messages waiting, so the route never starves and the
    // queue's own storage stays the same size throughout.
    std::uint64_t sent = 0;
    const std::string pad(100, 'x');
    asio::steady_timer produce_tick(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (;;)
            {
                while (sent - handled < 4000)
                    for (int i = 0; i < 500; ++i)
                        queue->send(fmt::format(R"({{"seq":{},"pad":"{}"}})", sent++, pad));
                produce_tick.expires_after(1ms);
                if (auto [ec] = co_await produce_tick.async_wait(asio::as_tuple(asio::use_awaitable)); ec)
                    co_return;
            }
        },
        asio::detached);

    // Samples from the end of the warm-up to the end of the run, then a graceful stop.
    struct sample
    {
        double at_s;
        std::int64_t rss_kib;
        std::uint64_t handled;
    };
    std::vector<sample> samples;
    std::uint64_t handled_at_warmup = 0;
    asio::steady_timer sample_tick(io);
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            sample_tick.expires_after(cfg.warmup);
            co_await sample_tick.async_wait(asio::use_awaitable);
            handled_at_warmup = handled;
            const auto first = std::chrono::steady_clock::now();
            while (std::chrono::steady_clock::now() - first < cfg.duration)
            {
                samples.push_back({std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                                   vm_rss_kib(), handled});
                sample_tick.expires_after(100ms);
                co_await sample_tick.async_wait(asio::use_awaitable);
            }
            produce_tick.cancel();
            mgr.stop();
        },
        asio::detached);

    const int code = mgr.run();
    produce_tick.cancel();

    const std::size_t n = samples.size();
    const auto quarter_max = [&](std::size_t from, std::size_t to) {
        std::int64_t m = 0;
        for (std::size_t i = from; i < to; ++i)
            m = std::max(m, samples[i].rss_kib);
        return m;
    };
    const std::int64_t first = n >= 4 ? quarter_max(0, n / 4) : 0;
    const std::int64_t last = n >= 4 ? quarter_max(n - n / 4, n) : 0;
    const std::uint64_t measured = handled - handled_at_warmup;
    const bool enough = measured >= cfg.min_messages && n >= 20;
    const bool flat = n >= 4 && samples.front().rss_kib > 0 && last <= first + cfg.margin_kib;
    fmt::print("{{\"test\":\"rss-flat\",\"messages\":{},\"measured_messages\":{},\"seconds\":{:.1f},"
               "\"samples\":{},\"rss_start_kib\":{},\"first_quarter_max_kib\":{},"
               "\"last_quarter_max_kib\":{},\"growth_kib\":{},\"margin_kib\":{},\"leak_bytes\":{},"
               "\"exit_code\":{},\"flat\":{},\"enough_work\":{}}}\n",
               handled, measured, n > 0 ? samples.back().at_s : 0.0, n, n > 0 ? samples.front().rss_kib : 0, first,
               last, last - first, cfg.margin_kib, cfg.leak_bytes, code, flat, enough);
    std::fflush(stdout);
    if (code != courier::exit_ok)
        std::fprintf(stderr, "rss_flat: the manager ended with %d\n", code);
    if (!enough)
        std::fprintf(stderr, "rss_flat: too little work measured (%llu messages, %zu samples)\n",
                     static_cast<unsigned long long>(measured), n);
    if (cfg.expect_growth)
    {
        if (flat)
            std::fprintf(stderr, "rss_flat: a leak of %zu bytes per message went unnoticed\n", cfg.leak_bytes);
        return code == courier::exit_ok && enough && !flat ? 0 : 1;
    }
    if (!flat)
        std::fprintf(stderr, "rss_flat: RSS grew from %lld KiB (first quarter max) to %lld KiB (last quarter max)\n",
                     static_cast<long long>(first), static_cast<long long>(last));
    return code == courier::exit_ok && enough && flat ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    settings cfg;
    try
    {
        cfg = parse(argc, argv);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "rss_flat: %s\n", e.what());
        return 2;
    }
    try
    {
        return run(cfg);
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "rss_flat: %s\n", e.what());
        return 1;
    }
}
