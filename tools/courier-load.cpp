// courier-load: sends messages to a queue (SQS, or RabbitMQ over AMQP 0-9-1 or STOMP;
// generated load, or bodies of your own) and drains it with a real courier service, for
// trying a service, load tests, soak tests and the peer benchmarks.
//
// `produce` sends numbered JSON messages, or the bodies given with --body/--body-file, with
// SendMessageBatch; `consume` runs a `courier::manager` with one SQS route over them and
// prints one JSON line of figures, the peer benchmarks' (throughput, CPU per message,
// duplicates, lost), optionally failing some first deliveries and recording every handler
// invocation in a file that survives SIGKILL; `create-queue` makes a queue for the scripts.
// Flags are parsed by courier::command_line (Boost.Program_options, COURIER_* environment
// fallbacks); endpoint, region and credentials otherwise come from the usual AWS chain, so
// the same commands work against fauxqs and against AWS.
#include "load/consume.hpp"

#include <courier/command_line.hpp>
#include <courier/courier.hpp>
#include <courier/daemon.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using clock_type = std::chrono::steady_clock;

constexpr const char* overview = R"(usage: courier-load COMMAND [flags]

commands:
  produce       sends N generated messages, or bodies of your own (--body, --body-file)
  consume       drains a queue with a courier service; prints one JSON line of figures
  bench         consume, configured by BENCH_* variables (a peer benchmark harness's contract)
  create-queue  creates a queue and prints its URL

`courier-load COMMAND --help` lists the flags of a command. --queue-url takes a queue URL or
a queue name (resolved with GetQueueUrl). Instead of --queue-url, --broker-url
amqp://user:pass@127.0.0.1:5672/VHOST or stomp://user:pass@127.0.0.1:61613/VHOST (a bare
trailing / is the default vhost /) with --queue NAME: a durable classic queue, declared if
missing or used as another client declared it (/queue/NAME on STOMP). --endpoint defaults to AWS_ENDPOINT_URL_SQS, then
AWS_ENDPOINT_URL, then AWS itself; the region and credentials come from the AWS environment,
files or roles, as in the SDKs.
Exit status: 0 done, 1 runtime failure, 2 bad arguments.
)";

// The flags every command but bench has.
struct common_flags
{
    std::string endpoint;
    std::string region;
    std::string log_level = "warning";
};

courier::log_level log_level_named(const std::string& name)
{
    using enum courier::log_level;
    static const std::map<std::string, courier::log_level, std::less<>> names{
        {"trace", trace}, {"debug", debug}, {"info", info}, {"warning", warning}, {"error", error}, {"off", off}};
    const auto it = names.find(name);
    if (it == names.end())
        throw courier::usage_error(fmt::format("--log-level: unknown level '{}'", name));
    return it->second;
}

void add_common(courier::command_line& cli, common_flags& c)
{
    cli.add_options()("endpoint", po::value(&c.endpoint)->value_name("URL"), "SQS endpoint (default: the AWS chain)")(
        "region", po::value(&c.region)->value_name("R"), "AWS region (default: the AWS chain)")(
        "log-level", po::value(&c.log_level)->value_name("LEVEL")->default_value("warning"),
        "trace, debug, info, warning, error or off");
    cli.add_check([](const po::variables_map& v) { log_level_named(v["log-level"].as<std::string>()); });
}

// An integer flag kept within [min, max]; `target` keeps its value when the flag is absent.
po::typed_value<std::int64_t>* bounded(std::int64_t* target, const char* name, std::int64_t min,
                                       std::int64_t max = std::numeric_limits<std::int64_t>::max())
{
    return po::value(target)->value_name("N")->notifier([=](std::int64_t v) {
        if (v >= min && v <= max)
            return;
        if (max == std::numeric_limits<std::int64_t>::max())
            throw courier::usage_error(fmt::format("--{}: expected an integer of at least {}, got {}", name, min, v));
        throw courier::usage_error(fmt::format("--{}: expected an integer from {} to {}, got {}", name, min, max, v));
    });
}

// Empty endpoint and region let courier resolve them the SDKs' way.
courier::sqs_client_options client_options(const common_flags& c, std::size_t connections)
{
    courier::sqs_client_options o;
    o.aws.endpoint = c.endpoint;
    o.aws.region = c.region;
    o.aws.max_connections = std::max(connections, o.aws.max_connections);
    o.aws.log = courier::logger(log_level_named(c.log_level));
    return o;
}

// A queue given by name becomes its URL (GetQueueUrl); a URL stays as it is.
asio::awaitable<std::string> queue_url(courier::sqs_client& client, std::string queue)
{
    if (courier::is_queue_url(queue))
        co_return queue;
    co_return co_await client.get_queue_url(std::move(queue));
}

// Runs `work` on a fresh io_context to completion; rethrows what it threw.
template <class Work> void run_to_completion(asio::io_context& io, Work work)
{
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
}

// The queue flags every command but create-queue has: an SQS queue, or a broker's.
struct queue_flags
{
    std::string queue_url;
    std::string broker_url;
    std::string queue;

    bool on_broker() const { return !broker_url.empty(); }
};

void add_queue(courier::command_line& cli, queue_flags& q)
{
    cli.add_options()("queue-url", po::value(&q.queue_url)->value_name("URL|NAME"), "the SQS queue")(
        "broker-url", po::value(&q.broker_url)->value_name("URL"), "instead of SQS: amqp://... or stomp://...")(
        "queue", po::value(&q.queue)->value_name("NAME"), "the queue on the broker (with --broker-url)");
    cli.add_check([](const po::variables_map& v) {
        if (v.count("broker-url") == v.count("queue-url"))
            throw courier::usage_error("give either --queue-url (SQS) or --broker-url with --queue");
        if (v.count("broker-url") != v.count("queue"))
            throw courier::usage_error("--broker-url and --queue go together");
        if (v.count("broker-url"))
        {
            const auto& url = v["broker-url"].as<std::string>();
            if (!url.starts_with("amqp://") && !url.starts_with("stomp://"))
                throw courier::usage_error(
                    fmt::format("--broker-url: expected amqp://... or stomp://..., got '{}'", url));
        }
    });
}

// Parses `args` (after the command) into `cli`; returns the exit status to end with, if any.
std::optional<int> parse(courier::command_line& cli, const std::vector<std::string>& args)
{
    return cli.parse(args, courier::process_environment, std::cout, std::cerr);
}

// ---- produce ----------------------------------------------------------------------------

std::string make_body(std::int64_t seq, std::size_t bytes)
{
    auto body = fmt::format(R"({{"seq":{},"pad":")", seq);
    const std::size_t minimal = body.size() + 2; // with the closing `"}`
    body.append(bytes > minimal ? bytes - minimal : 0, 'x');
    return body += "\"}";
}

// One body per non-empty line of `path` ("-": standard input).
std::vector<std::string> read_bodies(const std::string& path)
{
    std::ifstream file;
    if (path != "-")
    {
        file.open(path);
        if (!file)
            throw courier::usage_error(fmt::format("--body-file: cannot read '{}'", path));
    }
    std::istream& in = path == "-" ? std::cin : file;
    std::vector<std::string> bodies;
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            bodies.push_back(std::move(line));
    if (bodies.empty())
        throw courier::usage_error(fmt::format("--body-file: no message in '{}' (one per line)", path));
    return bodies;
}

int produce(const std::vector<std::string>& args)
{
    courier::command_line cli(
        "courier-load produce",
        "Sends messages to a queue, 10 per SendMessageBatch, C requests in flight. Bodies are\n"
        "{\"seq\":i,\"pad\":\"xxx...\"} of exactly B bytes, or your own: --body (repeatable) and\n"
        "--body-file (one message per line, empty lines skipped; - reads standard input), sent\n"
        "in order, once each unless --messages asks for more (they are then repeated in turn).\n"
        "Prints {\"mode\":\"produce\",...} (body_bytes: the mean size).");
    common_flags common;
    queue_flags queue;
    std::int64_t total = 0, bytes = 256, concurrency = 8;
    std::vector<std::string> bodies;
    std::string body_file;
    cli.add_options()("messages", bounded(&total, "messages", 1),
                      "messages to send (required without --body/--body-file)")(
        "body-bytes", bounded(&bytes, "body-bytes", 1, 1 << 20)->default_value(256), "size of generated bodies")(
        "body", po::value(&bodies)->value_name("TEXT"), "a message body of your own (repeatable)")(
        "body-file", po::value(&body_file)->value_name("FILE"), "message bodies, one per line")(
        "concurrency", bounded(&concurrency, "concurrency", 1, 1024)->default_value(8), "requests in flight");
    add_queue(cli, queue);
    add_common(cli, common);
    cli.add_check([](const po::variables_map& v) {
        const bool own = v.count("body") || v.count("body-file");
        if (v.count("body") && v.count("body-file"))
            throw courier::usage_error("--body and --body-file exclude each other");
        if (own && !v["body-bytes"].defaulted())
            throw courier::usage_error("--body-bytes sizes generated bodies: not with --body or --body-file");
        if (!own && !v.count("messages"))
            throw courier::usage_error("give --messages N (generated bodies), --body or --body-file");
    });
    if (const auto status = parse(cli, args))
        return *status;
    if (!body_file.empty())
        bodies = read_bodies(body_file);
    if (!bodies.empty() && total == 0)
        total = static_cast<std::int64_t>(bodies.size());
    const auto body_of = [&](std::int64_t i) {
        return bodies.empty() ? make_body(i, static_cast<std::size_t>(bytes))
                              : bodies[static_cast<std::size_t>(i) % bodies.size()];
    };

    const auto print_produced = [&](double secs) {
        std::uint64_t body_total = 0;
        for (std::int64_t i = 0; i < total; ++i)
            body_total += body_of(i).size();
        fmt::print("{{\"mode\":\"produce\",\"messages\":{},\"seconds\":{:.4f},\"msgs_per_s\":{:.1f},"
                   "\"body_bytes\":{},\"concurrency\":{}}}\n",
                   total, secs, total / secs, body_total / static_cast<std::uint64_t>(total), concurrency);
    };
    if (queue.on_broker())
    {
        // Confirmed publishes (AMQP) or receipted SENDs (STOMP), C in flight.
        print_produced(courier::tools::produce_to_broker(queue.broker_url, queue.queue, total,
                                                         static_cast<std::size_t>(concurrency), body_of,
                                                         log_level_named(common.log_level)));
        return 0;
    }

    asio::io_context io;
    courier::sqs_client client(io.get_executor(), client_options(common, static_cast<std::size_t>(concurrency)));
    std::string url;
    run_to_completion(io, [&]() -> asio::awaitable<void> { url = co_await queue_url(client, queue.queue_url); });

    std::int64_t next = 0; // the next message; the workers share it on the one io thread
    std::exception_ptr failure;
    const auto worker = [&]() -> asio::awaitable<void> {
        while (next < total)
        {
            std::vector<courier::outgoing_message> batch;
            for (; next < total && batch.size() < 10; ++next)
                batch.push_back({.body = body_of(next)});
            co_await client.send_batch(url, std::move(batch));
        }
    };
    io.restart();
    const auto start = clock_type::now();
    for (std::int64_t i = 0; i < concurrency; ++i)
        asio::co_spawn(io, worker(), [&](std::exception_ptr e) {
            if (e && !failure)
                failure = e;
            if (e)
                next = total; // one failure ends the run: the others stop at their next batch
        });
    io.run();
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    if (failure)
        std::rethrow_exception(failure);
    print_produced(secs);
    return 0;
}

// ---- consume ----------------------------------------------------------------------------

int consume(const std::vector<std::string>& args)
{
    courier::command_line cli(
        "courier-load consume",
        "Runs a courier manager with one route (SQS, or a broker's queue; max_in_flight C) whose handler decodes the\n"
        "body, appends its seq to FILE (one line per invocation, unbuffered, so a SIGKILL loses\n"
        "none), sleeps D ms (a timer) and throws on every K-th first delivery (retried after\n"
        "100-200 ms, which SQS rounds up to 1 s). Stops once N distinct seqs were handled and\n"
        "acked, after S seconds without a message (0 = never), or on SIGINT/SIGTERM. Prints\n"
        "{\"peer\":\"courier\",...}: seconds and CPU cover the consume phase; duplicates =\n"
        "invocations - distinct seqs (retries included); lost = N - seqs handled in this run;\n"
        "also peak_rss_kib (VmHWM) and in_flight_peak. Across restarts only FILE tells what was\n"
        "handled: give restarted runs --idle-exit-s.");
    common_flags common;
    queue_flags queue;
    courier::tools::consume_options o;
    std::int64_t messages = 0, in_flight = 10, threads = 1, delay_ms = 0, fail_every = 0, idle_s = 0;
    std::int64_t wait_s = 20, visibility_s = 30, request_timeout_ms = 0;
    std::string ids_kind = "seq";
    cli.add_options()("messages", bounded(&messages, "messages", 1)->required(), "distinct messages to handle")(
        "concurrency", bounded(&in_flight, "concurrency", 1, 100000)->default_value(10), "messages in flight")(
        "threads", bounded(&threads, "threads", 1, 64)->default_value(1), "threads running the io_context")(
        "handler-delay-ms", bounded(&delay_ms, "handler-delay-ms", 0)->default_value(0), "handler time (a timer)")(
        "fail-every", bounded(&fail_every, "fail-every", 0)->default_value(0), "throw on every K-th first delivery")(
        "ids-out", po::value(&o.ids_path)->value_name("FILE"), "one line per handler invocation")(
        "ids-kind", po::value(&ids_kind)->value_name("seq|message-id")->default_value("seq"),
        "what --ids-out lines hold")("done-out", po::value(&o.done_path)->value_name("FILE"),
                                     "a seq when its handler returned (a graceful stop must have acked it)")(
        "idle-exit-s", bounded(&idle_s, "idle-exit-s", 0)->default_value(0),
        "stop after S s without a message")("wait-time", bounded(&wait_s, "wait-time", 0, 20)->default_value(20),
                                            "long-poll seconds (a stop waits for the poll in flight)")(
        "visibility-timeout", bounded(&visibility_s, "visibility-timeout", 1, 43200)->default_value(30),
        "seconds deliveries stay hidden (how long a killed run's messages take to come back)")(
        "request-timeout-ms", bounded(&request_timeout_ms, "request-timeout-ms", 0, 600000)->default_value(0),
        "bound of each SQS request (0: the client's 10000)")(
        "until-empty", po::bool_switch(&o.until_empty),
        "stop once the queue reports no message visible, in flight or delayed (checked every 500 ms), "
        "however many were handled: for runs through faults and restarts (SQS only: a broker gives back "
        "what a dead consumer held at once, so --idle-exit-s serves)");
    add_queue(cli, queue);
    add_common(cli, common);
    cli.add_check([](const po::variables_map& v) {
        if (v.count("broker-url") && v["until-empty"].as<bool>())
            throw courier::usage_error("--until-empty is for SQS; on a broker use --idle-exit-s");
        const auto& kind = v["ids-kind"].as<std::string>();
        if (kind != "seq" && kind != "message-id")
            throw courier::usage_error(fmt::format("--ids-kind: '{}' is neither seq nor message-id", kind));
    });
    if (const auto status = parse(cli, args))
        return *status;
    o.queue_url = queue.queue_url;
    o.broker_url = queue.broker_url;
    o.queue = queue.queue;
    o.endpoint = common.endpoint;
    o.region = common.region;
    o.log = log_level_named(common.log_level);
    o.messages = messages;
    o.in_flight = static_cast<std::size_t>(in_flight);
    o.threads = static_cast<std::size_t>(threads);
    o.handler_delay = std::chrono::milliseconds(delay_ms);
    o.fail_every = static_cast<std::uint64_t>(fail_every);
    o.idle_exit = std::chrono::seconds(idle_s);
    o.wait_time = std::chrono::seconds(wait_s);
    o.visibility_timeout = std::chrono::seconds(visibility_s);
    o.request_timeout = std::chrono::milliseconds(request_timeout_ms);
    // The peers' harness counts MessageIds; our own soak scripts count seqs.
    o.ids_are_message_ids = ids_kind == "message-id";
    if (!queue.on_broker() && !courier::is_queue_url(o.queue_url))
    {
        asio::io_context io;
        courier::sqs_client client(io.get_executor(), client_options(common, 1));
        run_to_completion(io,
                          [&]() -> asio::awaitable<void> { o.queue_url = co_await queue_url(client, o.queue_url); });
    }
    return courier::tools::run_consume(o);
}

// ---- create-queue -----------------------------------------------------------------------

int create_queue(const std::vector<std::string>& args)
{
    courier::command_line cli(
        "courier-load create-queue",
        "Creates a queue (\".fifo\" appended for --fifo) and prints its URL, and then its ARN with\n"
        "--print-arn. Creating a queue that exists with the same attributes prints its URL.");
    common_flags common;
    std::string name, dlq_arn;
    bool fifo = false, print_arn = false;
    std::int64_t visibility_s = 0, max_receive_count = 0;
    cli.add_options()("name", po::value(&name)->value_name("NAME")->required(),
                      "the queue's name")("fifo", po::bool_switch(&fifo), "a FIFO queue")(
        "visibility-timeout", bounded(&visibility_s, "visibility-timeout", 0, 43200), "its VisibilityTimeout")(
        "dlq-arn", po::value(&dlq_arn)->value_name("ARN"), "its dead-letter queue (with --max-receive-count)")(
        "max-receive-count", bounded(&max_receive_count, "max-receive-count", 1, 1000),
        "deliveries before a message moves to the dead-letter queue")("print-arn", po::bool_switch(&print_arn),
                                                                      "also print the queue's ARN");
    add_common(cli, common);
    cli.add_check([](const po::variables_map& v) {
        if (v.count("dlq-arn") != v.count("max-receive-count"))
            throw courier::usage_error("--dlq-arn and --max-receive-count go together");
    });
    if (const auto status = parse(cli, args))
        return *status;

    courier::queue_attributes attributes;
    if (fifo)
    {
        attributes["FifoQueue"] = "true";
        if (!name.ends_with(".fifo"))
            name += ".fifo";
    }
    if (cli.given("visibility-timeout"))
        attributes["VisibilityTimeout"] = std::to_string(visibility_s);
    if (!dlq_arn.empty())
        attributes["RedrivePolicy"] =
            fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"{}"}})", dlq_arn, max_receive_count);

    asio::io_context io;
    courier::sqs_client client(io.get_executor(), client_options(common, 1));
    run_to_completion(io, [&]() -> asio::awaitable<void> {
        const auto url = co_await client.create_queue(name, attributes);
        fmt::print("{}\n", url);
        if (print_arn)
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
    const std::string_view command = argc > 1 ? argv[1] : "";
    const std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
    try
    {
        if (command == "produce")
            return produce(args);
        if (command == "consume")
            return consume(args);
        if (command == "create-queue")
            return create_queue(args);
        if (command == "bench")
        {
            // A peer benchmark harness's external-program contract (the same code as
            // build/bench/courier-sqs-bench; see options_from_bench_env).
            if (!args.empty())
                throw courier::usage_error("'bench' takes no arguments: BENCH_* variables configure it");
            return courier::tools::run_consume(courier::tools::options_from_bench_env());
        }
        if (command == "--help" || command == "-h")
        {
            fmt::print("{}", overview);
            return 0;
        }
        throw courier::usage_error(command.empty() ? "no command given" : fmt::format("unknown command '{}'", command));
    }
    catch (const std::invalid_argument& e) // a bad BENCH_* variable
    {
        fmt::print(stderr, "courier-load: {}\n", e.what());
        return courier::exit_usage;
    }
    catch (const courier::usage_error& e)
    {
        fmt::print(stderr, "courier-load: {}\n(courier-load --help lists the commands)\n", e.what());
        return courier::exit_usage;
    }
    catch (const std::exception& e)
    {
        fmt::print(stderr, "courier-load: {}\n", e.what());
        return 1;
    }
}
