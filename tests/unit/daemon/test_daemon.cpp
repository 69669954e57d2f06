// The command line of courier's programs and the daemon's shared flags: values from flags and
// from the COURIER_* environment, which one wins, repeated flags, bad values and their exit
// status, --help, the program's own flags and checks, and what the flags build (queues under
// --testing, route options, manager options). Name resolution against a server is in
// tests/integration/test_daemon_sqs.cpp.
#include "../test_support.hpp"

#include <courier/daemon.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <map>
#include <sstream>

using namespace courier_test;
namespace po = boost::program_options;

namespace {

// A command line run: its status (nullopt = the program goes on) and what it printed.
struct parsed
{
    std::optional<int> status;
    std::string out;
    std::string err;
};

using environment = std::map<std::string, std::string>;

courier::environment_lookup lookup(const environment& env)
{
    return [env](std::string_view name) -> std::optional<std::string> {
        const auto it = env.find(std::string(name));
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

template <class Parser> parsed run(Parser& p, std::vector<std::string> args, const environment& env = {})
{
    std::ostringstream out, err;
    const auto status = p.parse(args, lookup(env), out, err);
    return {status, out.str(), err.str()};
}

} // namespace

TEST_CASE("daemon: every shared flag on the command line")
{
    courier::daemon d("svc");
    const auto r = run(d, {"--sqs-queue-url", "https://sqs.eu-west-1.amazonaws.com/1/orders", "--debug", "--log-format",
                           "json", "--metrics-address", "127.0.0.1:9464", "--concurrency", "32", "--endpoint",
                           "http://127.0.0.1:4566", "--region=eu-west-1"});
    REQUIRE_MESSAGE(!r.status, r.err);
    const auto& o = d.options();
    CHECK(o.sqs_queues == std::vector<std::string>{"https://sqs.eu-west-1.amazonaws.com/1/orders"});
    CHECK(o.debug);
    CHECK_FALSE(o.testing);
    CHECK(o.log_format == courier::log_format::json);
    CHECK(o.metrics_address == "127.0.0.1:9464");
    CHECK(o.concurrency == 32);
    CHECK(o.endpoint == "http://127.0.0.1:4566");
    CHECK(o.region == "eu-west-1");
    CHECK(d.make_logger().level() == courier::log_level::debug);
    CHECK(d.manager_options().metrics_address == "127.0.0.1:9464");
    CHECK(d.manager_options().dispatch.log.level() == courier::log_level::debug);
    CHECK(d.sqs_client_options().aws.endpoint == "http://127.0.0.1:4566");
    CHECK(d.sqs_client_options().aws.region == "eu-west-1");
    CHECK(d.route_options({.receive_batch = 5}).max_in_flight == 32);
    CHECK(d.route_options({.receive_batch = 5}).receive_batch == 5);
}

TEST_CASE("daemon: defaults")
{
    courier::daemon d("svc");
    REQUIRE(!run(d, {"--sqs-queue-url", "orders"}).status);
    const auto& o = d.options();
    CHECK_FALSE(o.debug);
    CHECK(o.log_format == courier::log_format::text);
    CHECK(o.metrics_address.empty());
    CHECK(o.concurrency == 10);
    CHECK(o.endpoint.empty());
    CHECK(o.region.empty());
    CHECK(d.make_logger().level() == courier::log_level::info);
}

TEST_CASE("daemon: --sqs-queue-url repeats, and its variable holds a comma-separated list")
{
    courier::daemon a("svc");
    REQUIRE(!run(a, {"--sqs-queue-url", "orders", "--sqs-queue-url=https://h/1/refunds"}).status);
    CHECK(a.options().sqs_queues == std::vector<std::string>{"orders", "https://h/1/refunds"});

    courier::daemon b("svc");
    REQUIRE(!run(b, {}, {{"COURIER_SQS_QUEUE_URL", "orders, refunds,https://h/1/x"}}).status);
    CHECK(b.options().sqs_queues == std::vector<std::string>{"orders", "refunds", "https://h/1/x"});
}

TEST_CASE("daemon: the environment fills in what the command line leaves out; the command line wins")
{
    const environment env{{"COURIER_SQS_QUEUE_URL", "from-env"},
                          {"COURIER_CONCURRENCY", "7"},
                          {"COURIER_DEBUG", "1"},
                          {"COURIER_LOG_FORMAT", "json"},
                          {"COURIER_REGION", "eu-west-3"},
                          {"COURIER_ENDPOINT", "http://127.0.0.1:1"},
                          {"COURIER_METRICS_ADDRESS", "[::1]:0"},
                          {"COURIER_TESTING", "false"}};
    courier::daemon d("svc");
    const auto r = run(d, {"--sqs-queue-url", "from-flag", "--concurrency", "3"}, env);
    REQUIRE_MESSAGE(!r.status, r.err);
    const auto& o = d.options();
    CHECK(o.sqs_queues == std::vector<std::string>{"from-flag"});
    CHECK(o.concurrency == 3);
    CHECK(o.debug);
    CHECK_FALSE(o.testing);
    CHECK(o.log_format == courier::log_format::json);
    CHECK(o.region == "eu-west-3");
    CHECK(o.endpoint == "http://127.0.0.1:1");
    CHECK(o.metrics_address == "[::1]:0");

    SUBCASE("an empty variable counts as unset")
    {
        courier::daemon e("svc");
        REQUIRE(!run(e, {"--testing"}, {{"COURIER_CONCURRENCY", ""}}).status);
        CHECK(e.options().concurrency == 10);
    }
}

TEST_CASE("daemon: bad flags and values exit 2 with one message naming them")
{
    const auto fails = [](std::vector<std::string> args, std::string_view expected, const environment& env = {}) {
        courier::daemon d("svc");
        const auto r = run(d, std::move(args), env);
        CHECK(r.status == std::optional<int>(2));
        CHECK_MESSAGE(contains(r.err, expected), r.err);
        CHECK(r.err.starts_with("svc: "));
        CHECK(contains(r.err, "Try 'svc --help' for the flags."));
        CHECK(r.out.empty());
    };
    fails({"--sqs-queue-url", "q", "--nope"}, "unrecognised option '--nope'");
    fails({}, "give a queue with --sqs-queue-url (a URL or a name), or run with --testing");
    fails({"--sqs-queue-url"}, "--sqs-queue-url");
    fails({"--sqs-queue-url", ""}, "--sqs-queue-url: empty queue");
    fails({"--testing", "--concurrency", "0"}, "--concurrency: expected a number from 1 to 100000, got '0'");
    fails({"--testing", "--concurrency", "-1"}, "got '-1'");
    fails({"--testing", "--concurrency", "ten"}, "got 'ten'");
    fails({"--testing", "--concurrency", "100001"}, "got '100001'");
    fails({"--testing", "--concurrency", "4", "--concurrency", "5"},
          "'--concurrency' cannot be specified more than once");
    fails({"--testing", "--log-format", "xml"}, "--log-format: 'xml' is neither text nor json");
    fails({"--testing", "--metrics-address", "9464"}, "--metrics-address:");
    fails({"--testing", "--debug=yes"}, "--debug");
    fails({"--testing", "orders"}, "unexpected argument 'orders' (flags start with --)");
    fails({"--testing", "--conc", "5"}, "unrecognised option '--conc'"); // no abbreviations
    fails({"--testing"}, "COURIER_CONCURRENCY=many", {{"COURIER_CONCURRENCY", "many"}});
    fails({"--testing"}, "(from the environment: COURIER_DEBUG=maybe)", {{"COURIER_DEBUG", "maybe"}});
}

TEST_CASE("daemon: --help prints every flag, the environment rule and the exit statuses, and exits 0")
{
    courier::daemon d("svc", "Handles orders.");
    int stop_after = 0;
    d.add_options()("stop-after", po::value(&stop_after)->value_name("N"), "stop after N messages");
    for (const auto* flag : {"--help", "-h"})
    {
        // Help wins over anything else on the line, even a bad flag.
        const auto r = run(d, {"--nope", flag});
        CHECK(r.status == std::optional<int>(0));
        CHECK(r.err.empty());
        CHECK(r.out.starts_with("usage: svc [flags]\n\nHandles orders.\n"));
        for (const auto* text :
             {"--sqs-queue-url URL|NAME", "--testing", "--debug", "--log-format text|json",
              "--metrics-address HOST:PORT", "--concurrency N", "--endpoint URL", "--region REGION", "--stop-after N",
              "stop after N messages", "COURIER_SOME_FLAG", "Exit status: 0 after a graceful stop"})
            CHECK_MESSAGE(contains(r.out, text), text);
    }
}

TEST_CASE("command_line: a program's own flags, with their environment fallback and checks")
{
    courier::command_line cli("tool sub", "Does things.");
    int count = 0;
    bool dry = false;
    cli.add_options()("count", po::value(&count)->required(), "how many")("dry-run", po::bool_switch(&dry),
                                                                          "only say what would be done")(
        "body", po::value<std::string>(), "a body")("body-file", po::value<std::string>(), "a file of bodies");
    cli.add_check([](const po::variables_map& v) {
        if (v.count("body") && v.count("body-file"))
            throw courier::usage_error("--body and --body-file exclude each other");
    });

    auto r = run(cli, {"--count", "3"}, {{"COURIER_DRY_RUN", "yes"}});
    REQUIRE_MESSAGE(!r.status, r.err);
    CHECK(count == 3);
    CHECK(dry);
    CHECK(cli.given("count"));
    CHECK_FALSE(cli.given("body"));

    r = run(cli, {}, {{"COURIER_COUNT", "4"}});
    REQUIRE_MESSAGE(!r.status, r.err);
    CHECK(count == 4);
    CHECK(cli.given("count"));

    r = run(cli, {});
    CHECK(r.status == std::optional<int>(2));
    CHECK_MESSAGE(contains(r.err, "tool sub: the option '--count' is required but missing"), r.err);

    r = run(cli, {"--count", "1", "--body", "{}", "--body-file", "f"});
    CHECK(r.status == std::optional<int>(2));
    CHECK_MESSAGE(contains(r.err, "tool sub: --body and --body-file exclude each other"), r.err);
    CHECK(contains(r.err, "Try 'tool sub --help'"));

    CHECK(courier::environment_name("sqs-queue-url") == "COURIER_SQS_QUEUE_URL");
}

TEST_CASE("daemon: --testing alone gives one memory queue; with queues, one memory queue each")
{
    courier::daemon alone("svc");
    REQUIRE(!run(alone, {"--testing"}).status);
    CHECK(alone.make_sqs_client(asio::system_executor()) == nullptr);
    auto queues = alone.make_queues(nullptr);
    REQUIRE(queues.size() == 1);
    CHECK(queues[0].name == "testing");
    CHECK(queues[0].memory != nullptr);
    CHECK(queues[0].source == queues[0].memory);

    courier::daemon named("svc");
    REQUIRE(!run(named, {"--testing", "--sqs-queue-url", "orders", "--sqs-queue-url", "https://h/1/refunds"}).status);
    queues = named.make_queues(nullptr, {}, {.visibility_timeout = 5s});
    REQUIRE(queues.size() == 2);
    CHECK(queues[0].name == "orders");
    CHECK(queues[1].name == "refunds");
    CHECK(queues[1].memory->name() == "memory:refunds"); // a provider's name says what it is
    CHECK(queues[0].memory != queues[1].memory);
}

TEST_CASE("daemon: a service on --testing handles what is sent to its memory queue")
{
    courier::daemon d("svc");
    REQUIRE(!run(d, {"--testing", "--concurrency", "2"}).status);
    auto options = d.manager_options();
    options.dispatch.log = courier::logger(courier::log_level::off);
    courier::manager mgr(options);
    std::vector<std::string> handled;
    for (auto& queue : d.make_queues(d.make_sqs_client(mgr.get_executor())))
    {
        queue.memory->send("one");
        queue.memory->send("two");
        mgr.add_route(
            queue.name, queue.source,
            [&](const courier::message& m) -> asio::awaitable<void> {
                handled.push_back(m.body);
                if (handled.size() == 2)
                    mgr.stop();
                co_return;
            },
            d.route_options());
    }
    CHECK(mgr.run() == courier::exit_ok);
    std::sort(handled.begin(), handled.end());
    CHECK(handled == std::vector<std::string>{"one", "two"});
    const std::uint64_t acked = mgr.routes().at(0).stats().acked;
    CHECK(acked == 2);
}

TEST_CASE("daemon: SQS queues by URL or by name, sharing one client")
{
    courier::daemon d("svc");
    REQUIRE(!run(d, {"--sqs-queue-url", "https://sqs.eu-west-1.amazonaws.com/1/orders/", "--sqs-queue-url", "refunds",
                     "--region", "eu-west-1"})
                 .status);
    asio::io_context io;
    auto sqs = d.make_sqs_client(io.get_executor());
    REQUIRE(sqs != nullptr);
    const auto queues = d.make_queues(sqs);
    REQUIRE(queues.size() == 2);
    CHECK(queues[0].name == "orders");
    CHECK(queues[0].memory == nullptr);
    CHECK(queues[1].name == "refunds");
    CHECK(queues[1].source->name() == "refunds");
    CHECK(courier::is_queue_url("http://127.0.0.1:4566/000000000000/q"));
    CHECK_FALSE(courier::is_queue_url("q"));
    CHECK(courier::queue_name("http://127.0.0.1:4566/000000000000/q") == "q");
    CHECK(error_from([&] { (void)d.make_queues(nullptr); }).code() == courier::errc::bad_configuration);
    CHECK(error_from([&] { (void)courier::make_sqs_provider_for(sqs, ""); }).code() ==
          courier::errc::bad_configuration);
}
