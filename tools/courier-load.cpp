// courier-load: fills a queue (SQS, or RabbitMQ over AMQP 0-9-1 or STOMP) and drains it with
// a real courier service, for load tests, soak tests and the peer benchmarks.
//
// `produce` sends numbered JSON messages with SendMessageBatch; `consume` runs a
// `courier::manager` with one SQS route over them and prints the same JSON line as the
// Node peers of shared/peers (throughput, CPU per message, duplicates, lost), optionally
// failing some first deliveries and recording every handler invocation in a file that
// survives SIGKILL; `create-queue` makes a queue for the scripts. Endpoint, region and
// credentials come from the usual AWS chain, so the same commands work against fauxqs
// and against AWS.
#include "load/consume.hpp"

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
#include <cstdlib>
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
  courier-load produce (--queue-url URL | --broker-url URL --queue NAME) --messages N
                       [--body-bytes B] [--concurrency C]
  courier-load consume (--queue-url URL | --broker-url URL --queue NAME) --messages N
                       [--concurrency C] [--handler-delay-ms D]
                       [--fail-every K] [--ids-out FILE] [--idle-exit-s S]
                       [--wait-time S] [--visibility-timeout S] [--ids-kind seq|message-id]
                       [--threads T]
                       [--done-out FILE] [--request-timeout-ms MS] [--until-empty]
  courier-load bench
  courier-load create-queue --name NAME [--fifo] [--visibility-timeout S]
                            [--dlq-arn ARN --max-receive-count N] [--print-arn]
common: [--endpoint URL] [--region R] [--log-level trace|debug|info|warning|error|off]

produce       sends N messages, 10 per SendMessageBatch, C requests in flight (default 8).
              Bodies are {"seq":i,"pad":"xxx..."} of exactly B bytes (default 256; never
              shorter than the JSON without padding). Prints {"mode":"produce",...}.
consume       runs a courier manager with one SQS route (max_in_flight C, default 10) whose
              handler decodes the body, appends its seq to FILE (one line per invocation,
              unbuffered, so a SIGKILL loses none), sleeps D ms (a timer, default 0) and
              throws on every K-th first delivery (retried after 100-200 ms, which SQS
              rounds up to 1 s). Stops once N distinct seqs were handled and acked, after
              S seconds without a message (default 0 = never), or on SIGINT/SIGTERM.
              Long polls wait --wait-time s (default 20; a stop waits for the poll in
              flight); deliveries stay hidden --visibility-timeout s (default 30: how long
              a killed run's messages take to come back). Prints {"peer":"courier",...}:
              seconds and CPU cover the consume phase; duplicates = invocations - distinct
              seqs (retries included); lost = N - seqs handled in this run. Across restarts
              only FILE tells what was handled: give restarted runs --idle-exit-s.
              --threads T runs the io_context on T threads (default 1). The line also
              carries peak_rss_kib (VmHWM) and in_flight_peak.
              --done-out FILE gets a seq when its handler returned successfully (so a
              graceful stop must have acked it); --until-empty stops instead once the
              queue reports no message visible, in flight or delayed (checked every
              500 ms), however many were handled: for runs through faults and restarts;
              --request-timeout-ms bounds each SQS request (default 10000).
bench         consume, configured by the BENCH_* variables of ../shared/peers/external-bench.mjs
              (queue, endpoint, messages, 10 x BENCH_CONCURRENCY in flight, wait time, ids
              file of MessageIds); the same code as build/bench/courier-sqs-bench.
create-queue  creates a queue (".fifo" appended for --fifo) and prints its URL, and then
              its ARN with --print-arn.

--broker-url amqp://user:pass@127.0.0.1:5672/VHOST or stomp://user:pass@127.0.0.1:61613/VHOST
              (a bare trailing / is the default vhost /) with --queue NAME replaces
              --queue-url: a durable classic queue, declared if missing (or used as another
              client declared it); /queue/NAME on STOMP. produce publishes with publisher
              confirms (AMQP) or receipts (STOMP), C in flight; consume subscribes with a
              prefetch of C; --wait-time is how long a receive waits; --until-empty is SQS
              only (a broker gives back a dead consumer's messages at once: use
              --idle-exit-s). The JSON line and the ids file are those of SQS.
--endpoint defaults to AWS_ENDPOINT_URL_SQS, then AWS_ENDPOINT_URL, then AWS itself; the
region and credentials come from the AWS environment, files or roles, as in the SDKs.
Exit status: 0 done, 1 runtime failure, 2 bad arguments.
)";

struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// The flags after the command: `--name value`, `--name=value`, or a bare switch.
class flags
{
public:
    flags(int argc, char** argv, std::set<std::string_view> valued,
          const std::set<std::string_view>& switches = {})
    {
        valued.insert({"endpoint", "region", "log-level"});
        for (int i = 2; i < argc; ++i)
        {
            const std::string_view arg = argv[i];
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
                values_[name] = "1";
            else if (!valued.contains(name))
                throw usage_error(fmt::format("unknown flag --{} for '{}'", name, argv[1]));
            else if (value || i + 1 < argc)
                values_[name] = value ? *value : argv[++i];
            else
                throw usage_error(fmt::format("--{} needs a value", name));
        }
    }

    bool has(std::string_view name) const { return values_.contains(name); }

    std::string text(std::string_view name, std::string fallback = {}) const
    {
        const auto it = values_.find(name);
        return it == values_.end() ? fallback : it->second;
    }

    std::string required(std::string_view name) const
    {
        if (text(name).empty())
            throw usage_error(fmt::format("--{} is required", name));
        return text(name);
    }

    // The flag as an integer in [min, max]; `fallback` when absent, an error if that is
    // nullopt (a required number).
    std::int64_t number(std::string_view name, std::optional<std::int64_t> fallback,
                        std::int64_t min, std::int64_t max = INT64_MAX) const
    {
        if (!has(name) && fallback)
            return *fallback;
        const auto s = required(name);
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
            throw usage_error(fmt::format("--{}: expected an integer from {} to {}, got '{}'",
                                          name, min, max, s));
        return v;
    }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

courier::log_level log_level(const flags& f)
{
    using enum courier::log_level;
    static const std::map<std::string, courier::log_level, std::less<>> names{
        {"trace", trace},     {"debug", debug}, {"info", info},
        {"warning", warning}, {"error", error}, {"off", off}};
    const auto name = f.text("log-level", "warning");
    const auto it = names.find(name);
    if (it == names.end())
        throw usage_error(fmt::format("--log-level: unknown level '{}'", name));
    return it->second;
}

// Empty endpoint and region let courier resolve them the SDKs' way.
courier::sqs_client_options client_options(const flags& f, std::size_t connections)
{
    courier::sqs_client_options o;
    o.aws.endpoint = f.text("endpoint");
    o.aws.region = f.text("region");
    o.aws.max_connections = std::max(connections, o.aws.max_connections);
    o.aws.log = courier::logger(log_level(f));
    return o;
}

// ---- produce ----------------------------------------------------------------------------

std::string make_body(std::int64_t seq, std::size_t bytes)
{
    auto body = fmt::format(R"({{"seq":{},"pad":")", seq);
    const std::size_t minimal = body.size() + 2; // with the closing `"}`
    body.append(bytes > minimal ? bytes - minimal : 0, 'x');
    return body += "\"}";
}

// The queue flags: --queue-url for SQS, or --broker-url with --queue.
void check_queue_flags(const flags& f)
{
    if (f.has("broker-url") == f.has("queue-url"))
        throw usage_error("give either --queue-url (SQS) or --broker-url with --queue");
    if (f.has("broker-url") != f.has("queue"))
        throw usage_error("--broker-url and --queue go together");
    if (f.has("broker-url") && !f.text("broker-url").starts_with("amqp://") && !f.text("broker-url").starts_with("stomp://"))
        throw usage_error("--broker-url: expected amqp://... or stomp://...");
}

void print_produced(std::int64_t total, double secs, std::size_t bytes, std::size_t concurrency)
{
    fmt::print("{{\"mode\":\"produce\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
               "\"body_bytes\":{},\"concurrency\":{}}}\n",
               total, secs, total / secs, make_body(0, bytes).size(), concurrency);
}

int produce(const flags& f)
{
    check_queue_flags(f);
    const auto total = f.number("messages", std::nullopt, 1);
    const auto bytes = static_cast<std::size_t>(f.number("body-bytes", 256, 1, 1 << 20));
    const auto concurrency = static_cast<std::size_t>(f.number("concurrency", 8, 1, 1024));
    if (f.has("broker-url"))
    {
        const auto secs = courier::tools::produce_to_broker(
            f.required("broker-url"), f.required("queue"), total, concurrency,
            [bytes](std::int64_t seq) { return make_body(seq, bytes); }, log_level(f));
        print_produced(total, secs, bytes, concurrency);
        return 0;
    }
    const auto url = f.required("queue-url");

    asio::io_context io;
    courier::sqs_client client(io.get_executor(), client_options(f, concurrency));
    std::int64_t next = 0; // the next seq; the workers share it on the one io thread
    std::exception_ptr failure;
    const auto worker = [&]() -> asio::awaitable<void> {
        while (next < total)
        {
            std::vector<courier::outgoing_message> batch;
            for (; next < total && batch.size() < 10; ++next)
                batch.push_back({.body = make_body(next, bytes)});
            co_await client.send_batch(url, std::move(batch));
        }
    };
    const auto start = clock_type::now();
    for (std::size_t i = 0; i < concurrency; ++i)
        asio::co_spawn(io, worker(), [&](std::exception_ptr e) {
            if (e && !failure)
                failure = e;
            if (e)
                next = total; // one failure ends the run: the others stop at their next batch
        });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    print_produced(total, std::chrono::duration<double>(clock_type::now() - start).count(), bytes, concurrency);
    return 0;
}

// ---- consume ----------------------------------------------------------------------------

int consume(const flags& f)
{
    courier::tools::consume_options o;
    o.endpoint = f.text("endpoint");
    o.region = f.text("region");
    o.log = log_level(f);
    check_queue_flags(f);
    o.queue_url = f.text("queue-url");
    o.broker_url = f.text("broker-url");
    o.queue = f.text("queue");
    o.messages = f.number("messages", std::nullopt, 1);
    o.in_flight = static_cast<std::size_t>(f.number("concurrency", 10, 1, 100000));
    o.threads = static_cast<std::size_t>(f.number("threads", 1, 1, 64));
    o.handler_delay = std::chrono::milliseconds(f.number("handler-delay-ms", 0, 0));
    o.fail_every = static_cast<std::uint64_t>(f.number("fail-every", 0, 0));
    o.idle_exit = std::chrono::seconds(f.number("idle-exit-s", 0, 0));
    o.wait_time = std::chrono::seconds(f.number("wait-time", 20, 0, 20));
    o.visibility_timeout = std::chrono::seconds(f.number("visibility-timeout", 30, 1, 43200));
    o.ids_path = f.text("ids-out");
    o.done_path = f.text("done-out");
    o.request_timeout = std::chrono::milliseconds(f.number("request-timeout-ms", 0, 0, 600000));
    o.until_empty = f.has("until-empty");
    // The peers' harness counts MessageIds; our own soak scripts count seqs.
    o.ids_are_message_ids = f.text("ids-kind", "seq") == "message-id";
    return courier::tools::run_consume(o);
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
            std::to_string(f.number("visibility-timeout", std::nullopt, 0, 43200));
    if (f.has("dlq-arn") != f.has("max-receive-count"))
        throw usage_error("--dlq-arn and --max-receive-count go together");
    if (f.has("dlq-arn"))
        attributes["RedrivePolicy"] = fmt::format(
            R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"{}"}})", f.required("dlq-arn"),
            f.number("max-receive-count", std::nullopt, 1, 1000));

    asio::io_context io;
    courier::sqs_client client(io.get_executor(), client_options(f, 1));
    std::exception_ptr failure;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const auto url = co_await client.create_queue(name, attributes);
        fmt::print("{}\n", url);
        if (f.has("print-arn"))
        {
            auto found = co_await client.get_queue_attributes(url);
            fmt::print("{}\n", found["QueueArn"]);
        }
    }, [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    return 0;
}

} // namespace

const std::set<std::string_view> consume_flags = {
    "queue-url", "broker-url", "queue",
    "messages",  "concurrency", "handler-delay-ms",   "fail-every",
    "ids-out",   "ids-kind",  "idle-exit-s", "wait-time",          "visibility-timeout",
    "threads",   "done-out",  "request-timeout-ms"};

int main(int argc, char** argv)
{
    const std::string_view command = argc > 1 ? argv[1] : "";
    try
    {
        for (int i = 1; i < argc; ++i)
            if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h")
            {
                fmt::print("{}", usage);
                return 0;
            }
        if (command == "produce")
            return produce(
                flags(argc, argv, {"queue-url", "broker-url", "queue", "messages", "body-bytes", "concurrency"}));
        if (command == "consume")
            return consume(flags(argc, argv, consume_flags, {"until-empty"}));
        if (command == "bench")
        {
            // The contract of ../shared/peers/external-bench.mjs (the same code as
            // build/bench/courier-sqs-bench).
            if (argc > 2)
                throw usage_error("'bench' takes no arguments: BENCH_* variables configure it");
            return courier::tools::run_consume(courier::tools::options_from_bench_env());
        }
        if (command == "create-queue")
            return create_queue(
                flags(argc, argv, {"name", "visibility-timeout", "dlq-arn", "max-receive-count"},
                      {"fifo", "print-arn"}));
        throw usage_error(command.empty() ? "no command given"
                                          : fmt::format("unknown command '{}'", command));
    }
    catch (const std::invalid_argument& e) // a bad BENCH_* variable
    {
        fmt::print(stderr, "courier-load: {}\n", e.what());
        return 2;
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
