// The consume run of courier-load and the benchmarks, and the broker produce (see consume.hpp).
#include "load/consume.hpp"

#include "amqp/connection.hpp"

#include <courier/courier.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <sys/resource.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace courier::tools {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A point in time with the process's user and system CPU (all threads), in seconds.
struct snapshot
{
    clock_type::time_point at{};
    double user = 0;
    double sys = 0;

    static snapshot now()
    {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        const auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
        return {clock_type::now(), s(u.ru_utime), s(u.ru_stime)};
    }
};

struct load_body
{
    std::int64_t seq = 0;
    std::string pad;
};
BOOST_DESCRIBE_STRUCT(load_body, (), (seq, pad))

// One line per handler invocation, written straight to the kernel: a SIGKILL right after
// the handler ran cannot lose the line in a user-space buffer.
class ids_file
{
public:
    explicit ids_file(const std::string& path)
    {
        if (path.empty())
            return;
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    }
    ~ids_file()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    ids_file(const ids_file&) = delete;
    ids_file& operator=(const ids_file&) = delete;

    void append(std::int64_t seq) const
    {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
        append(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }

    void append(std::string_view id) const
    {
        if (fd_ < 0)
            return;
        std::string line(id);
        line += '\n';
        write_all(line);
    }

    /// Lines already joined, in one write.
    void write_all(std::string_view lines) const
    {
        if (fd_ < 0)
            return;
        while (!lines.empty())
        {
            const auto n = ::write(fd_, lines.data(), lines.size());
            if (n <= 0)
                throw std::system_error(errno, std::generic_category(), "writing the ids file");
            lines.remove_prefix(static_cast<std::size_t>(n));
        }
    }

private:
    int fd_ = -1;
};

// What the handler saw. With more than one thread the handler (on the route's strand)
// and the watcher run concurrently, hence the mutex; uncontended it costs ~20 ns.
struct tally
{
    std::mutex lock;
    std::unordered_set<std::int64_t> seen; // seqs the handler was invoked for
    std::unordered_set<std::int64_t> ok;   // seqs whose handler succeeded
    std::uint64_t invocations = 0;
    std::uint64_t ok_invocations = 0;
    std::uint64_t first_deliveries = 0;
    std::string ids_at_end; // with consume_options::ids_at_end: the ids file's lines
    clock_type::time_point last_activity = clock_type::now();
};

} // namespace

std::int64_t peak_rss_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmHWM:"))
            return std::stoll(line.substr(6)); // "VmHWM:    12345 kB"
    return 0;
}

consume_options options_from_bench_env()
{
    const auto env = [](const char* name) {
        const char* v = std::getenv(name);
        if (v == nullptr || *v == '\0')
            throw std::invalid_argument(
                fmt::format("{} is not set (the bench command is configured by BENCH_* variables)", name));
        return std::string(v);
    };
    const auto number = [&](const char* name, std::int64_t min, std::int64_t max) {
        const auto s = env(name);
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
            throw std::invalid_argument(
                fmt::format("{}: expected an integer from {} to {}, got '{}'", name, min, max, s));
        return v;
    };
    consume_options o;
    o.queue_url = env("BENCH_QUEUE_URL");
    o.endpoint = env("BENCH_ENDPOINT");
    o.messages = number("BENCH_MESSAGES", 1, INT64_MAX);
    o.in_flight = static_cast<std::size_t>(10 * number("BENCH_CONCURRENCY", 1, 10000));
    o.wait_time = std::chrono::seconds(number("BENCH_WAIT_TIME_SECONDS", 0, 20));
    o.ids_path = env("BENCH_IDS_FILE");
    o.ids_are_message_ids = true;
    o.ids_at_end = true;
    o.mode = "external-bench";
    return o;
}

namespace {

bool is_amqp(std::string_view url)
{
    return url.starts_with("amqp://");
}

// The route's provider on a broker: its own connection, the queue durable and classic.
std::shared_ptr<courier::provider> broker_provider(asio::io_context& io, const consume_options& o)
{
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(o.wait_time);
    if (is_amqp(o.broker_url))
    {
        auto c = courier::amqp::parse_url(o.broker_url);
        c.log = courier::logger(o.log);
        return courier::make_amqp_provider(io.get_executor(), std::move(c), {.queue = o.queue, .wait_time = wait});
    }
    auto c = courier::stomp::parse_url(o.broker_url);
    c.log = courier::logger(o.log);
    return courier::make_stomp_provider(io.get_executor(), std::move(c), {.queue = o.queue, .wait_time = wait});
}

} // namespace

double produce_to_broker(const std::string& broker_url, const std::string& queue, std::int64_t total,
                         std::size_t concurrency, const std::function<std::string(std::int64_t)>& make_body,
                         log_level log)
{
    asio::io_context io(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
    std::shared_ptr<courier::publisher> publisher;
    std::function<asio::awaitable<void>()> close;
    std::function<asio::awaitable<void>()> prepare = []() -> asio::awaitable<void> { co_return; };
    std::shared_ptr<courier::amqp::client> amqp;
    std::shared_ptr<courier::stomp::client> stomp;
    if (is_amqp(broker_url))
    {
        auto c = courier::amqp::parse_url(broker_url);
        c.log = courier::logger(log);
        amqp = std::make_shared<courier::amqp::client>(io.get_executor(), std::move(c));
        publisher = amqp->publisher("", queue);
        prepare = [&]() -> asio::awaitable<void> {
            courier::amqp::queue_declare_args q{.queue = queue, .durable = true};
            co_await amqp->connection_ptr()->declare_or_use_queue(std::move(q));
        };
        close = [&] { return amqp->close(); };
    }
    else
    {
        auto c = courier::stomp::parse_url(broker_url);
        c.log = courier::logger(log);
        stomp = std::make_shared<courier::stomp::client>(io.get_executor(), std::move(c));
        publisher = stomp->publisher("/queue/" + queue); // RabbitMQ declares it durable if missing
        close = [&] { return stomp->close(); };
    }
    std::int64_t next = 0;
    std::exception_ptr failure;
    std::size_t running = concurrency;
    const auto start = clock_type::now();
    clock_type::time_point end{};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await prepare();
            for (std::size_t i = 0; i < concurrency; ++i)
                asio::co_spawn(
                    io,
                    [&]() -> asio::awaitable<void> {
                        while (next < total)
                        {
                            courier::outgoing_message m;
                            m.body = make_body(next++);
                            co_await publisher->publish(std::move(m));
                        }
                    },
                    [&](std::exception_ptr e) {
                        if (e && !failure)
                            failure = e;
                        if (e)
                            next = total;
                        if (--running == 0)
                        {
                            end = clock_type::now();
                            asio::co_spawn(io, close(), asio::detached);
                        }
                    });
        },
        [&](std::exception_ptr e) {
            if (e)
            {
                failure = e;
                asio::co_spawn(io, close(), asio::detached);
            }
        });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    return std::chrono::duration<double>(end - start).count();
}

int run_consume(const consume_options& o)
{
    const bool on_broker = !o.broker_url.empty();
    if ((on_broker ? o.queue.empty() : o.queue_url.empty()) || o.messages < 1 || o.in_flight < 1 || o.threads < 1)
        throw std::invalid_argument("consume needs a queue URL (or a broker URL and a queue), messages, in-flight "
                                    "and threads >= 1");
    if (on_broker && o.until_empty)
        throw std::invalid_argument("--until-empty is for SQS; on a broker use --idle-exit-s");
    const std::int64_t total = o.messages;
    const ids_file ids(o.ids_path);
    const ids_file done(o.done_path);

    // A borrowed io_context: `run()` then returns as soon as the dispatcher is done, even
    // though the watcher below may still have a timer pending. Extra threads, if any, run
    // the same io_context and are stopped once the manager returns.
    // One thread: tell Asio (and courier) so, as courier::manager does for its own
    // io_context; I/O objects then need no locks and routes no strands.
    asio::io_context io(o.threads == 1 ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO : static_cast<int>(o.threads));
    courier::manager mgr(io, {.dispatch = {.log = courier::logger(o.log)}});
    courier::sqs_client_options client_opts;
    client_opts.aws.endpoint = o.endpoint;
    client_opts.aws.region = o.region;
    client_opts.aws.max_connections = std::max<std::size_t>(16, client_opts.aws.max_connections);
    client_opts.aws.log = courier::logger(o.log);
    client_opts.verify_md5 = o.verify_md5;
    if (o.request_timeout.count() > 0)
        client_opts.aws.request_timeout = o.request_timeout;
    auto client =
        on_broker ? nullptr : std::make_shared<courier::sqs_client>(io.get_executor(), std::move(client_opts));
    // The watcher's timer is also cancelled from the handler: one strand serialises both.
    const auto watch = asio::make_strand(io);
    asio::steady_timer tick(watch);
    tally t;
    const bool by_count = o.count_invocations;
    if (!by_count)
    {
        // Sized up front: rehashing while messages arrive is the harness's cost, not courier's.
        const auto expected = static_cast<std::size_t>(std::min<std::int64_t>(total, 1 << 20));
        t.seen.reserve(expected);
        t.ok.reserve(expected);
    }

    auto handle = [&](load_body body, courier::context& ctx) -> asio::awaitable<void> {
        {
            std::lock_guard guard(t.lock);
            // First: every invocation is on disk (or kept), whatever happens next.
            if (o.ids_at_end)
                t.ids_at_end.append(o.ids_are_message_ids ? ctx.message_id() : std::to_string(body.seq)).append("\n");
            else if (o.ids_are_message_ids)
                ids.append(ctx.message_id());
            else
                ids.append(body.seq);
            ++t.invocations;
            if (!by_count)
                t.seen.insert(body.seq);
            t.last_activity = clock_type::now();
        }
        if (o.handler_delay.count() > 0)
        {
            asio::steady_timer sleep(co_await asio::this_coro::executor, o.handler_delay);
            co_await sleep.async_wait(asio::use_awaitable);
        }
        std::lock_guard guard(t.lock);
        if (o.fail_every > 0 && ctx.raw().receive_count == 1 && ++t.first_deliveries % o.fail_every == 0)
            throw std::runtime_error(fmt::format("planned failure of seq {}", body.seq));
        ++t.ok_invocations;
        if (!o.ids_are_message_ids)
            done.append(body.seq);
        const bool handled_all = by_count ? std::int64_t(t.ok_invocations) == total
                                          : t.ok.insert(body.seq).second && std::ssize(t.ok) == total;
        if (handled_all)
            asio::post(watch, [&] { tick.cancel(); }); // wake the watcher now, on its own turn
    };
    std::shared_ptr<courier::provider> provider;
    if (on_broker)
        provider = broker_provider(io, o);
    else
        provider = courier::make_sqs_provider(
            client, {.queue_url = o.queue_url, .wait_time = o.wait_time, .visibility_timeout = o.visibility_timeout});
    mgr.add_route("load", std::move(provider), courier::json<load_body>{}, handle,
                  {.max_in_flight = o.in_flight, .on_error = courier::retry_with_backoff({.base = 200ms, .max = 5s})});

    // The watcher ends the run once N messages were handled and every successful handling
    // was settled (acked, or its ack failed and was counted), or after too long without a
    // message. It polls every 100 ms, and every 1 ms near the end.
    std::optional<snapshot> end;
    std::string stopped_by = "signal";
    const auto handled_enough = [&] {
        return by_count ? std::int64_t(t.ok_invocations) >= total : std::ssize(t.ok) >= total;
    };
    // The queue's own answer for --until-empty. A failed check (through the fault proxy,
    // say) is just "not yet": the next tick asks again.
    const auto queue_is_empty = [&]() -> asio::awaitable<bool> {
        try
        {
            const auto a = co_await client->get_queue_attributes(o.queue_url);
            const auto zero = [&](std::string_view name, bool required) {
                const auto it = a.find(name);
                return it == a.end() ? !required : it->second == "0";
            };
            co_return zero("ApproximateNumberOfMessages", true) &&
                zero("ApproximateNumberOfMessagesNotVisible", true) &&
                zero("ApproximateNumberOfMessagesDelayed", false);
        }
        catch (const std::exception&)
        {
        }
        co_return false;
    };
    asio::co_spawn(
        watch,
        [&]() -> asio::awaitable<void> {
            auto next_check = clock_type::now();
            for (;;)
            {
                {
                    std::lock_guard guard(t.lock);
                    tick.expires_after(handled_enough() ? 1ms : 100ms);
                }
                co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
                const auto& s = mgr.routes().front().stats();
                bool empty = false;
                if (o.until_empty && clock_type::now() >= next_check)
                {
                    next_check = clock_type::now() + 500ms;
                    empty = co_await queue_is_empty();
                }
                std::lock_guard guard(t.lock);
                // Counting invocations (the stub, whose supply never ends), acks never catch up
                // with handlings while more than one batch is in flight: stop at N handled and
                // let the graceful stop flush the acks, timed until run() returns.
                if (by_count && !o.until_empty && handled_enough())
                {
                    stopped_by = "count";
                    mgr.stop();
                    co_return;
                }
                if (o.until_empty
                        ? empty
                        : handled_enough() && s.handled >= t.ok_invocations && s.acked + s.provider_errors >= s.handled)
                    stopped_by = o.until_empty ? "empty" : "count";
                else if (o.idle_exit.count() > 0 && clock_type::now() - t.last_activity >= o.idle_exit)
                    stopped_by = "idle";
                else
                    continue;
                end = snapshot::now();
                mgr.stop(); // graceful: acks are flushed before run() returns
                co_return;
            }
        },
        asio::detached);

    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> extra;
    const auto start = snapshot::now();
    t.last_activity = start.at;
    for (std::size_t i = 1; i < o.threads; ++i)
        extra.emplace_back([&io] { io.run(); });
    const int code = mgr.run();
    guard.reset();
    io.stop();
    for (auto& th : extra)
        th.join();
    tick.cancel();
    if (!end)
        end = snapshot::now();
    if (stopped_by == "idle") // the idle wait is not consume time
        end->at = t.last_activity;
    ids.write_all(t.ids_at_end);

    const auto& s = mgr.routes().front().stats();
    const double secs = std::chrono::duration<double>(end->at - start.at).count();
    const double user = end->user - start.user;
    const double sys = end->sys - start.sys;
    const auto handled = static_cast<double>(by_count ? t.ok_invocations : t.ok.size());
    const auto in_range =
        by_count ? std::min<std::int64_t>(std::int64_t(t.ok_invocations), total)
                 : std::count_if(t.ok.begin(), t.ok.end(), [&](std::int64_t seq) { return seq >= 0 && seq < total; });
    const auto duplicates = by_count ? 0 : t.invocations - t.seen.size();
    fmt::print("{{\"peer\":\"{}\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
               "\"cpu_user_s\":{:.4f},\"cpu_sys_s\":{:.4f},\"cpu_us_per_msg\":{:.2f},"
               "\"duplicates\":{},\"lost\":{},\"mode\":\"{}\",\"concurrency\":{},\"threads\":{},"
               "\"handler_delay_ms\":{},\"invocations\":{},\"failed\":{},\"retried\":{},\"acked\":{},"
               "\"provider_errors\":{},\"requests\":{},\"in_flight_peak\":{},\"peak_rss_kib\":{},"
               "\"verify_md5\":{},\"stopped_by\":\"{}\",\"exit_code\":{}}}\n",
               o.peer, total, secs, handled > 0 ? handled / secs : 0, user, sys,
               handled > 0 ? (user + sys) * 1e6 / handled : 0, duplicates, total - in_range, o.mode, o.in_flight,
               o.threads, o.handler_delay.count(), t.invocations, s.failed, s.retried, s.acked, s.provider_errors,
               client ? client->requests_sent() : 0, s.in_flight_peak, peak_rss_kib(), o.verify_md5, stopped_by, code);
    std::fflush(stdout);
    return code == courier::exit_error ? 1 : 0;
}

} // namespace courier::tools
