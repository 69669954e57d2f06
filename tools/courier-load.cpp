// courier-load: fills an SQS queue and drains it with a real courier service, for load
// tests, soak tests and the peer benchmarks.
//
// `produce` sends numbered JSON messages with SendMessageBatch; `consume` runs a
// `courier::manager` with one SQS route over them and prints the same JSON line as the
// Node peers of shared/peers (throughput, CPU per message, duplicates, lost), optionally
// failing some first deliveries and recording every handler invocation in a file that
// survives SIGKILL; `create-queue` makes a queue for the scripts. Endpoint, region and
// credentials come from the usual AWS chain, so the same commands work against fauxqs
// and against AWS.
#include <courier/courier.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr const char* usage = R"(usage:
  courier-load produce --queue-url URL --messages N [--body-bytes B] [--concurrency C]
  courier-load consume --queue-url URL --messages N [--concurrency C] [--handler-delay-ms D]
                       [--fail-every K] [--ids-out FILE] [--idle-exit-s S] [--wait-time S]
                       [--visibility-timeout S]
  courier-load create-queue --name NAME [--fifo] [--visibility-timeout S]
                            [--dlq-arn ARN --max-receive-count N] [--print-arn]
common: [--endpoint URL] [--region R] [--log-level trace|debug|info|warning|error|off]

produce       sends N messages, 10 per SendMessageBatch, C requests in flight (default 8).
              Bodies are {"seq":i,"pad":"xxx..."} of exactly B bytes (default 256; never
              shorter than the JSON without padding). Prints {"mode":"produce",...}.
consume       runs a courier manager with one SQS route (max_in_flight C, default 10) whose
              handler decodes the body, appends its seq to FILE (one line per invocation,
              unbuffered, so a SIGKILL loses none), sleeps D ms (a timer) and throws on every
              K-th first delivery (retried after ~200 ms). Stops once N distinct seqs were
              handled and acked, after S seconds without a message (default 0 = never), or
              on SIGINT/SIGTERM. Receives long-poll --wait-time s (default 20; a stop waits
              for the poll in flight) and hide messages for --visibility-timeout s (default
              30; what a killed consumer's messages wait before coming back). Prints {"peer":"courier",...}: seconds and CPU cover the
              consume phase; duplicates = invocations - distinct seqs (retries included);
              lost = N - seqs handled in this run. Across restarts only FILE tells what was
              handled: give the restarted run --idle-exit-s and check FILE.
create-queue  creates a queue (".fifo" appended for --fifo) and prints its URL, then its
              ARN with --print-arn.

--endpoint defaults to AWS_ENDPOINT_URL_SQS, then AWS_ENDPOINT_URL, then AWS; the region
and credentials come from the AWS environment, files or instance roles, as in the SDKs.
Exit status: 0 done, 1 runtime failure, 2 bad arguments.
)";

struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// The flags of one command line: `--name value`, `--name=value` or a bare switch.
struct flags
{
    std::map<std::string, std::string, std::less<>> values;

    flags(int argc, char** argv, std::set<std::string_view> valued, std::set<std::string_view> switches)
    {
        for (int i = 2; i < argc; ++i)
        {
            std::string_view arg = argv[i];
            if (!arg.starts_with("--"))
                throw usage_error(fmt::format("unexpected argument '{}'", arg));
            std::string name(arg.substr(2));
            std::optional<std::string> value;
            if (const auto eq = name.find('='); eq != std::string::npos)
            {
                value = name.substr(eq + 1);
                name.resize(eq);
            }
            if (switches.contains(name) && !value)
                values[name] = "1";
            else if (!valued.contains(name))
                throw usage_error(fmt::format("unknown flag --{} for '{}'", name, argv[1]));
            else if (value)
                values[name] = *value;
            else if (i + 1 < argc)
                values[name] = argv[++i];
            else
                throw usage_error(fmt::format("--{} needs a value", name));
        }
    }

    bool has(std::string_view name) const { return values.contains(name); }

    std::string text(std::string_view name, std::string fallback = {}) const
    {
        const auto it = values.find(name);
        return it == values.end() ? fallback : it->second;
    }

    std::string required(std::string_view name) const
    {
        if (!has(name) || text(name).empty())
            throw usage_error(fmt::format("--{} is required", name));
        return text(name);
    }

    std::int64_t number(std::string_view name, std::int64_t fallback, std::int64_t min,
                        std::int64_t max = INT64_MAX) const
    {
        if (!has(name))
            return fallback;
        const auto& s = values.find(name)->second;
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
            throw usage_error(fmt::format("--{}: expected an integer from {} to {}, got '{}'", name,
                                          min, max, s));
        return v;
    }
};

courier::log_level parse_level(const std::string& s)
{
    using enum courier::log_level;
    static const std::map<std::string, courier::log_level, std::less<>> names{
        {"trace", trace}, {"debug", debug}, {"info", info}, {"warning", warning},
        {"error", error}, {"off", off}};
    const auto it = names.find(s);
    if (it == names.end())
        throw usage_error(fmt::format("--log-level: unknown level '{}'", s));
    return it->second;
}

courier::sqs_client_options client_options(const flags& f, std::size_t connections)
{
    courier::sqs_client_options o;
    o.aws.endpoint = f.text("endpoint");
    o.aws.region = f.text("region");
    o.aws.max_connections = std::max<std::size_t>(connections, o.aws.max_connections);
    o.aws.log = courier::logger(parse_level(f.text("log-level", "warning")));
    return o;
}

// Runs `fn` on a fresh io_context and rethrows what it threw.
template <class Fn>
void run_io(asio::io_context& io, Fn fn)
{
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(fn), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
}

double seconds_between(clock_type::time_point a, clock_type::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

// User and system CPU of the whole process (all threads), in seconds.
std::pair<double, double> cpu_now()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return {s(u.ru_utime), s(u.ru_stime)};
}

// ---- produce ----------------------------------------------------------------------------

std::string make_body(std::int64_t seq, std::size_t bytes)
{
    auto body = fmt::format(R"({{"seq":{},"pad":")", seq);
    const std::size_t minimal = body.size() + 2; // the closing `"}`
    body.append(bytes > minimal ? bytes - minimal : 0, 'x');
    body += "\"}";
    return body;
}

int produce(const flags& f)
{
    const auto url = f.required("queue-url");
    const auto total = f.number("messages", -1, 1);
    if (total < 0)
        throw usage_error("--messages is required");
    const auto bytes = static_cast<std::size_t>(f.number("body-bytes", 256, 1, 256 * 1024));
    const auto concurrency = static_cast<std::size_t>(f.number("concurrency", 8, 1, 1024));

    asio::io_context io;
    auto client = std::make_shared<courier::sqs_client>(io.get_executor(),
                                                        client_options(f, concurrency));
    std::int64_t next = 0; // the next seq to send; workers share it on the one io thread
    const auto worker = [&]() -> asio::awaitable<void> {
        while (next < total)
        {
            std::vector<courier::outgoing_message> batch;
            for (; next < total && batch.size() < 10; ++next)
                batch.push_back(courier::outgoing_message{.body = make_body(next, bytes)});
            co_await client->send_batch(url, std::move(batch));
        }
    };
    const auto start = clock_type::now();
    run_io(io, [&]() -> asio::awaitable<void> {
        // One failure ends the run: the others stop at their next batch.
        std::exception_ptr first;
        std::size_t running = concurrency;
        asio::steady_timer all_done(io, clock_type::time_point::max());
        for (std::size_t i = 0; i < concurrency; ++i)
            asio::co_spawn(io, worker(), [&](std::exception_ptr e) {
                if (e && !first)
                {
                    first = e;
                    next = total;
                }
                if (--running == 0)
                    all_done.cancel();
            });
        co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
        if (first)
            std::rethrow_exception(first);
    });
    const double secs = seconds_between(start, clock_type::now());
    fmt::print("{{\"mode\":\"produce\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
               "\"body_bytes\":{},\"concurrency\":{}}}\n",
               total, secs, total / secs, make_body(0, bytes).size(), concurrency);
    return 0;
}

// ---- consume ----------------------------------------------------------------------------

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
        if (fd_ < 0)
            return;
        char line[24];
        auto end = std::to_chars(line, line + sizeof line - 1, seq).ptr;
        *end++ = '\n';
        if (::write(fd_, line, static_cast<std::size_t>(end - line)) != end - line)
            throw std::system_error(errno, std::generic_category(), "writing the ids file");
    }

private:
    int fd_ = -1;
};

struct consume_state
{
    std::int64_t total = 0;
    std::unordered_set<std::int64_t> seen;   // seqs the handler was invoked for
    std::unordered_set<std::int64_t> ok;     // seqs whose handler succeeded
    std::uint64_t invocations = 0;
    std::uint64_t ok_invocations = 0;
    std::uint64_t first_deliveries = 0;
    clock_type::time_point last_activity = clock_type::now();
    std::optional<std::pair<clock_type::time_point, std::pair<double, double>>> end;
    std::string stopped_by = "signal";
};

int consume(const flags& f)
{
    const auto url = f.required("queue-url");
    consume_state st;
    st.total = f.number("messages", -1, 1);
    if (st.total < 0)
        throw usage_error("--messages is required");
    const auto concurrency = static_cast<std::size_t>(f.number("concurrency", 10, 1, 100000));
    const auto delay = std::chrono::milliseconds(f.number("handler-delay-ms", 0, 0));
    const auto fail_every = static_cast<std::uint64_t>(f.number("fail-every", 0, 0));
    const auto idle_exit = std::chrono::seconds(f.number("idle-exit-s", 0, 0));
    const auto wait_time = std::chrono::seconds(f.number("wait-time", 20, 0, 20));
    const auto visibility = std::chrono::seconds(f.number("visibility-timeout", 30, 1, 43200));
    const ids_file ids(f.text("ids-out"));
    const auto level = parse_level(f.text("log-level", "warning"));

    // A borrowed io_context: `run()` then returns when the dispatcher is done, although the
    // watcher below still has a timer pending.
    asio::io_context io;
    courier::manager mgr(io, {.dispatch = {.log = courier::logger(level)}});
    auto client = std::make_shared<courier::sqs_client>(io.get_executor(), client_options(f, 16));
    courier::sqs_queue_options queue{
        .queue_url = url, .wait_time = wait_time, .visibility_timeout = visibility};
    asio::steady_timer tick(io);

    // The manager runs one thread, so the handler, the watcher and `st` never race.
    auto handle = [&](load_body body, courier::context& ctx) -> asio::awaitable<void> {
        ids.append(body.seq); // first: every invocation is on disk, whatever happens next
        ++st.invocations;
        st.seen.insert(body.seq);
        st.last_activity = clock_type::now();
        if (delay.count() > 0)
        {
            asio::steady_timer sleep(co_await asio::this_coro::executor, delay);
            co_await sleep.async_wait(asio::use_awaitable);
        }
        if (fail_every > 0 && ctx.raw().receive_count == 1 && ++st.first_deliveries % fail_every == 0)
            throw std::runtime_error(fmt::format("planned failure of seq {}", body.seq));
        ++st.ok_invocations;
        if (st.ok.insert(body.seq).second && std::ssize(st.ok) == st.total)
            tick.cancel(); // wake the watcher now rather than at its next tick
    };
    mgr.add_route("load", courier::make_sqs_provider(client, std::move(queue)),
                  courier::json<load_body>{}, handle,
                  {.max_in_flight = concurrency,
                   .on_error = courier::retry_with_backoff({.base = 200ms, .max = 5s})});

    // Decides when the run is over: N distinct seqs handled and every successful handling
    // settled (acked, or its ack failed), or idle too long. Polls fast only near the end.
    const auto snapshot = [&](const char* why) {
        st.end.emplace(clock_type::now(), cpu_now());
        st.stopped_by = why;
        mgr.stop();
    };
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        for (;;)
        {
            tick.expires_after(std::ssize(st.ok) >= st.total ? 1ms : 100ms);
            co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
            const auto& s = mgr.routes().front().stats();
            if (std::ssize(st.ok) >= st.total && s.handled >= st.ok_invocations &&
                s.acked + s.provider_errors >= s.handled)
            {
                snapshot("count");
                co_return;
            }
            if (idle_exit.count() > 0 && clock_type::now() - st.last_activity >= idle_exit)
            {
                snapshot("idle");
                co_return;
            }
        }
    }, asio::detached);

    const auto start = clock_type::now();
    const auto cpu_start = cpu_now();
    st.last_activity = start;
    const int code = mgr.run();
    if (!st.end)
        st.end.emplace(clock_type::now(), cpu_now());
    // An idle exit's waiting is not consume time.
    const auto end = st.stopped_by == "idle" ? st.last_activity : st.end->first;

    const auto& s = mgr.routes().front().stats();
    const double secs = seconds_between(start, end);
    const double user = st.end->second.first - cpu_start.first;
    const double sys = st.end->second.second - cpu_start.second;
    // Per message of this run: nothing handled, nothing to divide.
    const double handled = static_cast<double>(st.ok.size());
    const double rate = handled > 0 ? handled / secs : 0;
    const double cpu_per_msg = handled > 0 ? (user + sys) * 1e6 / handled : 0;
    const auto in_range = std::count_if(st.ok.begin(), st.ok.end(),
                                        [&](std::int64_t q) { return q >= 0 && q < st.total; });
    fmt::print("{{\"peer\":\"courier\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
               "\"cpu_user_s\":{:.4f},\"cpu_sys_s\":{:.4f},\"cpu_us_per_msg\":{:.2f},"
               "\"duplicates\":{},\"lost\":{},\"mode\":\"consume\",\"concurrency\":{},"
               "\"invocations\":{},\"failed\":{},\"retried\":{},\"acked\":{},"
               "\"provider_errors\":{},\"stopped_by\":\"{}\",\"exit_code\":{}}}\n",
               st.total, secs, rate, user, sys, cpu_per_msg,
               st.invocations - st.seen.size(), st.total - in_range, concurrency, st.invocations,
               s.failed.load(), s.retried.load(), s.acked.load(), s.provider_errors.load(),
               st.stopped_by, code);
    std::fflush(stdout);
    tick.cancel();
    return code == courier::exit_error ? 1 : 0;
}

// ---- create-queue -----------------------------------------------------------------------

int create_queue(const flags& f)
{
    auto name = f.required("name");
    courier::queue_attributes attributes;
    if (f.has("fifo"))
    {
        attributes["FifoQueue"] = "true";
        if (!name.ends_with(".fifo"))
            name += ".fifo";
    }
    if (f.has("visibility-timeout"))
        attributes["VisibilityTimeout"] =
            std::to_string(f.number("visibility-timeout", 30, 0, 12 * 60 * 60));
    if (f.has("dlq-arn") != f.has("max-receive-count"))
        throw usage_error("--dlq-arn and --max-receive-count go together");
    if (f.has("dlq-arn"))
        attributes["RedrivePolicy"] =
            fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"{}"}})",
                        f.required("dlq-arn"), f.number("max-receive-count", 0, 1, 1000));

    asio::io_context io;
    courier::sqs_client client(io.get_executor(), client_options(f, 1));
    run_io(io, [&]() -> asio::awaitable<void> {
        const auto url = co_await client.create_queue(name, attributes);
        fmt::print("{}\n", url);
        if (f.has("print-arn"))
        {
            auto found = co_await client.get_queue_attributes(url);
            fmt::print("{}\n", found["QueueArn"]);
        }
    });
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::set<std::string_view> common{"endpoint", "region", "log-level"};
    const auto with = [&](std::set<std::string_view> more) {
        more.insert(common.begin(), common.end());
        return more;
    };
    const std::string_view mode = argc > 1 ? argv[1] : "";
    try
    {
        for (int i = 1; i < argc; ++i)
            if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h")
            {
                fmt::print("{}", usage);
                return 0;
            }
        if (mode == "produce")
            return produce(flags(argc, argv, with({"queue-url", "messages", "body-bytes", "concurrency"}), {}));
        if (mode == "consume")
            return consume(flags(argc, argv,
                                 with({"queue-url", "messages", "concurrency", "handler-delay-ms",
                                       "fail-every", "ids-out", "idle-exit-s", "wait-time",
                                       "visibility-timeout"}),
                                 {}));
        if (mode == "create-queue")
            return create_queue(flags(argc, argv,
                                      with({"name", "visibility-timeout", "dlq-arn", "max-receive-count"}),
                                      {"fifo", "print-arn"}));
        throw usage_error(mode.empty() ? "no command given" : fmt::format("unknown command '{}'", mode));
    }
    catch (const usage_error& e)
    {
        fmt::print(stderr, "courier-load: {}\n(courier-load --help prints the usage)\n", e.what());
        return 2;
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "courier-load: {}\n", e.what());
        return 1;
    }
}
