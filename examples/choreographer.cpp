// File: choreographer.cpp — briefy.choreographer as a courier service: events from an SQS
// queue, transformed by weighted actions into messages on named output queues.
//
//     choreographer --input-queue-url URL --queue crm=URL --queue mail=URL
//                   [--endpoint URL] [--region R] [--concurrency N] [--log-level debug]
//                   [--wait-time S] [--stop-after N]
//
// Input bodies: {"event_name": "lead.created", "data": {"id": "L1", "email": "a@example.com", "name": "Ada"}}
//
//   lead.created  weight 10 -> crm   {"lead_id": "L1", "email": "a@example.com"}
//                 weight 20 -> mail  {"to": "a@example.com", "template": "welcome", "name": "Ada"}
//   lead.updated  weight 10 -> crm   {"lead_id": ..., "email": ...}
//   lead.deleted  (data needs only id): logged, no action
//
// An unknown event_name, or data missing a member, is left unacknowledged: the input queue's
// redrive policy moves it to its dead-letter queue. A failed send is retried with backoff,
// without sending again the actions already confirmed. Every step is logged with the input
// message id. Credentials come from the AWS chain (environment, ~/.aws files, web identity,
// ECS, EC2). SIGTERM or Ctrl-C stops it (exit 0) and prints what each action did.
#include <courier/command_line.hpp>
#include <courier/courier.hpp>
#include <courier/sqs.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace po = boost::program_options;
using namespace std::chrono_literals;

// The events: the body's event_name selects the type, its data member is decoded into it.
struct lead_created
{
    static constexpr courier::event_options courier_event{.name = "lead.created"};
    std::string id;
    std::string email;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email, name))

struct lead_updated
{
    static constexpr courier::event_options courier_event{.name = "lead.updated"};
    std::string id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(lead_updated, (), (id, email))

struct lead_deleted
{
    static constexpr courier::event_options courier_event{.name = "lead.deleted"};
    std::string id;
};
BOOST_DESCRIBE_STRUCT(lead_deleted, (), (id))

// The payloads the actions send.
struct crm_lead
{
    std::string lead_id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(crm_lead, (), (lead_id, email))

// Retrying cannot fix an unknown event or a malformed one, and deleting it would lose the
// evidence: leave it for the redrive policy. Anything else (an output queue down) is
// retried with backoff.
bool is_unknown_event(std::exception_ptr failure)
{
    try
    {
        std::rethrow_exception(failure);
    }
    catch (const courier::error& e)
    {
        return e.code() == courier::errc::unknown_event;
    }
    catch (...)
    {
        return false;
    }
}

courier::error_action on_failure(const courier::context& ctx, std::exception_ptr failure)
{
    static const auto retry = courier::retry_with_backoff({.base = 1s, .max = 5min});
    if (courier::is_translation_error(failure) || is_unknown_event(failure))
    {
        ctx.log(courier::log_level::warning, "left for the dead-letter queue (delivery {}): {}",
                ctx.raw().receive_count, courier::error_text(failure, ctx));
        return courier::error_action::leave();
    }
    ctx.log(courier::log_level::warning, "failed, retried with backoff: {}", courier::error_text(failure, ctx));
    return retry(ctx, failure);
}

std::optional<courier::log_level> parse_log_level(const std::string& text)
{
    static const std::pair<std::string_view, courier::log_level> levels[] = {{"trace", courier::log_level::trace},
                                                                             {"debug", courier::log_level::debug},
                                                                             {"info", courier::log_level::info},
                                                                             {"warning", courier::log_level::warning},
                                                                             {"error", courier::log_level::error}};
    for (const auto& [name, level] : levels)
        if (text == name)
            return level;
    return std::nullopt;
}

void print_table(const std::vector<courier::action_stats>& stats)
{
    std::cout << fmt::format("{:<14} {:<14} {:>6}  {:<8} {:>6} {:>9} {:>7} {:>11}\n", "event", "action", "weight",
                             "queue", "sent", "declined", "failed", "not resent");
    for (const auto& s : stats)
        std::cout << fmt::format("{:<14} {:<14} {:>6}  {:<8} {:>6} {:>9} {:>7} {:>11}\n", s.event, s.action, s.weight,
                                 s.queue, s.sent, s.declined, s.failed, s.not_resent);
}

int main_impl(int argc, char** argv)
{
    courier::command_line cli("choreographer",
                              "Reads events from an SQS queue and runs each event's actions, in weight order,\n"
                              "sending what they make to named output queues.");
    std::string input_url;
    std::vector<std::string> queue_flags;
    std::string endpoint;
    std::string region;
    std::size_t concurrency = 10;
    std::string log_level = "info";
    int wait_seconds = 20;
    std::uint64_t stop_after = 0;
    cli.add_options()("input-queue-url", po::value(&input_url)->value_name("URL"),
                      "the SQS queue the events come from (required)")(
        "queue", po::value(&queue_flags)->value_name("NAME=URL"),
        "an output queue: its name in the actions (crm, mail) and its SQS URL; repeatable")(
        "endpoint", po::value(&endpoint)->value_name("URL"), "SQS endpoint (default: AWS's for the region)")(
        "region", po::value(&region)->value_name("R"), "AWS region (default: from the environment or ~/.aws)")(
        "concurrency", po::value(&concurrency)->value_name("N")->default_value(10),
        "events handled at once (each event's actions run in order)")(
        "log-level", po::value(&log_level)->value_name("LEVEL")->default_value("info"),
        "trace, debug, info, warning or error")(
        "wait-time", po::value(&wait_seconds)->value_name("S")->default_value(20),
        "long-poll the input queue S seconds (0-20); a graceful stop waits for the poll in flight")(
        "stop-after", po::value(&stop_after)->value_name("N"),
        "stop gracefully once N input messages were acknowledged (for trying it out)");
    cli.add_check([](const po::variables_map& v) {
        if (!v.count("input-queue-url"))
            throw courier::usage_error("--input-queue-url is required");
        if (!v.count("queue"))
            throw courier::usage_error("--queue NAME=URL is required (one per output queue)");
        if (!parse_log_level(v["log-level"].as<std::string>()))
            throw courier::usage_error("--log-level: one of trace, debug, info, warning, error");
        if (v["wait-time"].as<int>() < 0 || v["wait-time"].as<int>() > 20)
            throw courier::usage_error("--wait-time: SQS waits 0 to 20 seconds");
        const auto n = v["concurrency"].as<std::size_t>();
        if (n < 1 || n > 10000)
            throw courier::usage_error("--concurrency: 1 to 10000");
        for (const auto& flag : v["queue"].as<std::vector<std::string>>())
            if (const auto eq = flag.find('='); eq == std::string::npos || eq == 0 || eq + 1 == flag.size())
                throw courier::usage_error(fmt::format("--queue '{}': expected NAME=URL", flag));
    });
    cli.parse_or_exit(argc, argv);

    const courier::logger log(*parse_log_level(log_level));
    courier::manager_options options;
    options.dispatch.log = log;
    // The steps the engine sees: a message received, and its acknowledgement confirmed.
    options.dispatch.hooks.received = [log](std::string_view route, const courier::message& msg) {
        log.log(courier::log_level::info, route, msg.id, "received (delivery {})", msg.receive_count);
    };
    auto acknowledged = std::make_shared<std::atomic<std::uint64_t>>(0);
    courier::manager* running = nullptr;
    options.dispatch.hooks.acknowledged = [log, acknowledged, &running, stop_after](std::string_view route,
                                                                                    const courier::message& msg) {
        log.log(courier::log_level::info, route, msg.id, "acknowledged");
        if (++*acknowledged == stop_after)
            running->stop();
    };
    courier::manager mgr(std::move(options));
    running = &mgr;

    courier::sqs_client_options client_options;
    client_options.aws.endpoint = endpoint;
    client_options.aws.region = region;
    client_options.aws.log = log;
    auto sqs = std::make_shared<courier::sqs_client>(mgr.get_executor(), std::move(client_options));

    // The output queues, by name; a FIFO queue (its URL ends in .fifo) gets deduplication ids.
    courier::output_queues outputs;
    for (const auto& flag : queue_flags)
    {
        const auto eq = flag.find('=');
        std::string url = flag.substr(eq + 1);
        const bool fifo = url.ends_with(".fifo");
        outputs.add(flag.substr(0, eq), courier::make_sqs_publisher(sqs, url), {.fifo = fifo});
    }

    // The actions. An action naming a queue not given with --queue stops the program here.
    // readme: choreographer begin
    courier::choreography choreo(std::move(outputs),
                                 {.where = courier::event_name_location::body_member("event_name", "data")});
    choreo.action<lead_created>({.name = "crm.upsert", .weight = 10, .queue = "crm"}, [](const lead_created& lead) {
        return crm_lead{lead.id, lead.email};
    });
    choreo.action<lead_created>({.name = "mail.welcome", .weight = 20, .queue = "mail"}, [](const lead_created& lead) {
        return courier::json_text{fmt::format(R"({{"to":{},"template":"welcome","name":{}}})",
                                              courier::json_encode(lead.email), courier::json_encode(lead.name))};
    });
    choreo.action<lead_updated>({.name = "crm.update", .weight = 10, .queue = "crm"}, [](const lead_updated& lead) {
        return crm_lead{lead.id, lead.email};
    });
    choreo.router().add_event<lead_deleted>(); // logged, acknowledged, no action
    // readme: choreographer end

    mgr.add_route(
        "events",
        courier::make_sqs_provider(sqs, {.queue_url = input_url, .wait_time = std::chrono::seconds(wait_seconds)}),
        choreo.router(), {.max_in_flight = concurrency, .on_error = on_failure});
    const int status = mgr.run(); // until SIGTERM or SIGINT
    print_table(choreo.stats());
    return status;
}

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const std::exception& e)
    {
        // courier::error's what() carries the context: route, queue, action, HTTP status.
        std::cerr << "choreographer: " << e.what() << '\n';
    }
    return 1;
}
