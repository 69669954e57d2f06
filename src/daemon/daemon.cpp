// The daemon's shared flags, their checks, and what they build: logger, manager options,
// the SQS client, and one provider per queue (memory queues under --testing).
#include "ops/http_endpoint.hpp"

#include <courier/daemon.hpp>
#include <courier/error.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <fmt/core.h>

#include <charconv>

namespace po = boost::program_options;

namespace courier {

namespace {

constexpr std::size_t max_concurrency = 100000;

// A value rejected while Program_options stores it, so that one from the environment is
// reported with its variable: "--concurrency: expected ... (from the environment: ...)".
class bad_value : public po::validation_error
{
public:
    explicit bad_value(const std::string& why)
        : po::validation_error(po::validation_error::invalid_option_value)
    {
        m_error_template = "%canonical_option%: " + why;
    }
};

// The flags whose values are checked as they are read: a type each, with its `validate`
// (found by Program_options through argument-dependent lookup).
struct concurrency_flag
{
    std::size_t value = 10;
};

struct log_format_flag
{
    log_format value = log_format::text;
};

struct address_flag
{
    std::string value;
};

void validate(boost::any& out, const std::vector<std::string>& tokens, concurrency_flag*, int)
{
    po::validators::check_first_occurrence(out); // a custom validate must say so itself
    const auto& text = po::validators::get_single_string(tokens);
    std::size_t n = 0;
    // from_chars, not lexical_cast, which reads "-1" as a huge unsigned number.
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > max_concurrency)
        throw bad_value(fmt::format("expected a number from 1 to {}, got '{}'", max_concurrency, text));
    out = concurrency_flag{n};
}

void validate(boost::any& out, const std::vector<std::string>& tokens, log_format_flag*, int)
{
    po::validators::check_first_occurrence(out); // a custom validate must say so itself
    const auto& text = po::validators::get_single_string(tokens);
    if (text != "text" && text != "json")
        throw bad_value(fmt::format("'{}' is neither text nor json", text));
    out = log_format_flag{text == "json" ? log_format::json : log_format::text};
}

void validate(boost::any& out, const std::vector<std::string>& tokens, address_flag*, int)
{
    po::validators::check_first_occurrence(out); // a custom validate must say so itself
    const auto& text = po::validators::get_single_string(tokens);
    try
    {
        detail::parse_listen_address(text);
    }
    catch (const error& e)
    {
        throw bad_value(e.detail());
    }
    out = address_flag{text};
}

constexpr const char* exit_statuses =
    "Exit status: 0 after a graceful stop (SIGTERM or Ctrl-C), 1 for a configuration error or a\n"
    "failure, 2 for a bad flag or a forced stop (a second signal), 3 for an error retrying cannot\n"
    "heal (a queue that does not exist, denied access, credentials refused).";

} // namespace

daemon::daemon(std::string program, std::string about)
    : cli_(std::move(program), std::move(about))
{
    cli_.add_options()("sqs-queue-url", po::value<std::vector<std::string>>()->value_name("URL|NAME"),
                       "an SQS queue to consume, by URL or by name (resolved with GetQueueUrl); repeat it for "
                       "several queues")(
        "testing", po::bool_switch(),
        "in-memory queues instead of SQS (one per --sqs-queue-url, or one named 'testing'): "
        "runs without AWS")("debug", po::bool_switch(), "log at debug level (default: info)")(
        "log-format", po::value<log_format_flag>()->value_name("text|json")->default_value({}, "text"),
        "log lines for people, or one JSON object per line")(
        "metrics-address", po::value<address_flag>()->value_name("HOST:PORT"),
        "serve /metrics, /healthz and /readyz there, e.g. 127.0.0.1:9464 (default: not served)")(
        "concurrency", po::value<concurrency_flag>()->value_name("N")->default_value({}, "10"),
        "messages in flight per queue, 1 to 100000")(
        "endpoint", po::value<std::string>()->value_name("URL"),
        "SQS endpoint (default: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, then AWS itself)")(
        "region", po::value<std::string>()->value_name("REGION"),
        "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)");
    cli_.set_epilogue(exit_statuses);
    cli_.add_check([this](const po::variables_map& v) {
        daemon_options o;
        if (v.count("sqs-queue-url"))
            o.sqs_queues = v["sqs-queue-url"].as<std::vector<std::string>>();
        o.testing = v["testing"].as<bool>();
        o.debug = v["debug"].as<bool>();
        if (o.sqs_queues.empty() && !o.testing)
            throw usage_error("give a queue with --sqs-queue-url (a URL or a name), or run with --testing");
        for (const auto& q : o.sqs_queues)
            if (q.empty())
                throw usage_error("--sqs-queue-url: empty queue");
        o.log_format = v["log-format"].as<log_format_flag>().value;
        o.concurrency = v["concurrency"].as<concurrency_flag>().value;
        if (v.count("metrics-address"))
            o.metrics_address = v["metrics-address"].as<address_flag>().value;
        if (v.count("endpoint"))
            o.endpoint = v["endpoint"].as<std::string>();
        if (v.count("region"))
            o.region = v["region"].as<std::string>();
        options_ = std::move(o);
    });
}

void daemon::parse_or_exit(int argc, const char* const argv[])
{
    cli_.parse_or_exit(argc, argv);
}

std::optional<int> daemon::parse(std::span<const std::string> args, const environment_lookup& environment,
                                 std::ostream& out, std::ostream& err)
{
    return cli_.parse(args, environment, out, err);
}

logger daemon::make_logger() const
{
    return logger(options_.debug ? log_level::debug : log_level::info, options_.log_format);
}

manager_options daemon::manager_options() const
{
    courier::manager_options o;
    o.metrics_address = options_.metrics_address;
    o.dispatch.log = make_logger();
    return o;
}

sqs_client_options daemon::sqs_client_options() const
{
    courier::sqs_client_options o;
    o.aws.endpoint = options_.endpoint;
    o.aws.region = options_.region;
    o.aws.log = make_logger();
    return o;
}

std::shared_ptr<sqs_client> daemon::make_sqs_client(boost::asio::any_io_executor executor) const
{
    if (options_.testing)
        return nullptr;
    return std::make_shared<sqs_client>(std::move(executor), sqs_client_options());
}

std::vector<daemon_queue> daemon::make_queues(std::shared_ptr<sqs_client> sqs, sqs_queue_options options,
                                              memory_queue_options memory) const
{
    std::vector<daemon_queue> queues;
    if (options_.testing)
    {
        auto names = options_.sqs_queues;
        if (names.empty())
            names.push_back("testing");
        for (const auto& q : names)
        {
            memory.name = queue_name(q);
            auto queue = std::make_shared<memory_provider>(memory);
            queues.push_back({.name = memory.name, .source = queue, .memory = queue});
        }
        return queues;
    }
    if (!sqs)
        throw error(errc::bad_configuration, "daemon::make_queues: no SQS client (make_sqs_client)");
    for (const auto& q : options_.sqs_queues)
        queues.push_back({.name = queue_name(q), .source = make_sqs_provider_for(sqs, q, options)});
    return queues;
}

route_options daemon::route_options(courier::route_options options) const
{
    options.max_in_flight = options_.concurrency;
    return options;
}

} // namespace courier
