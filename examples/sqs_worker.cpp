// File: sqs_worker.cpp — an SQS service to copy: typed orders from one or more queues.
//
//     sqs_worker --sqs-queue-url orders [--sqs-queue-url URL2 ...] [--concurrency N] [--debug]
//     sqs_worker --testing --send '{"id":"o-1","customer":"c-7","sku":"tea","quantity":2}' --stop-after 1
//
// `sqs_worker --help` lists every flag. The shared ones (queues by URL or name, --testing,
// --debug, --log-format, --metrics-address, --concurrency, --endpoint, --region) come from
// courier::daemon, each with a COURIER_* environment fallback; this program adds its own
// (--visibility-timeout, --wait-time, --stop-after, --send).
//
// One route per queue decodes each body as an `order` and logs it. Failures are retried
// with exponential backoff; a body that is not an order is left for the queue's redrive
// policy to move to its dead-letter queue. Credentials come from the AWS chain
// (environment, ~/.aws files, web identity, ECS, EC2). SIGTERM or Ctrl-C stops it
// gracefully (handlers finish, acks are flushed); a second one cancels the handlers still
// running.
#include <courier/courier.hpp>
#include <courier/daemon.hpp>

#include <boost/program_options/value_semantic.hpp>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace std::chrono_literals;

// The JSON shape of a message body. Unknown members are ignored; a missing member is an
// error, except `note`, which may be absent or null.
struct order
{
    std::string id;
    std::string customer;
    std::string sku;
    std::int64_t quantity = 0;
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, customer, sku, quantity, note))

// The business logic. Returning acks the message; throwing hands it to `on_failure`.
asio::awaitable<void> handle_order(order o, courier::context& ctx)
{
    ctx.log(courier::log_level::info, "order {} for {}: {} x {}{}{} (delivery {})", o.id, o.customer, o.quantity, o.sku,
            o.note ? ", note: " : "", o.note.value_or(""), ctx.raw().receive_count);
    co_return;
}

// Retrying cannot fix a body that is not an order, and deleting it would lose the evidence:
// leave it (courier logs why), so the redrive policy moves it to the dead-letter queue after
// maxReceiveCount deliveries. Anything else (a database down, a timeout) is retried with
// backoff, which courier logs too.
courier::error_action on_failure(const courier::context& ctx, std::exception_ptr failure)
{
    static const auto retry = courier::retry_with_backoff({.base = 1s, .max = 5min});
    if (courier::is_translation_error(failure))
        return courier::error_action::leave();
    return retry(ctx, failure);
}

int main_impl(int argc, char** argv)
{
    courier::daemon daemon("sqs_worker", "Consumes orders (JSON: id, customer, sku, quantity, note) from SQS queues,\n"
                                         "or from memory queues with --testing.");
    int visibility_seconds = 0;
    int wait_seconds = 20;
    std::uint64_t stop_after = 0;
    std::vector<std::string> sends;
    daemon.add_options()("visibility-timeout", po::value(&visibility_seconds)->value_name("S"),
                         "keep received messages hidden S seconds (default: the queue's own)")(
        "wait-time", po::value(&wait_seconds)->value_name("S")->default_value(20), "long-poll S seconds (0-20)")(
        "stop-after", po::value(&stop_after)->value_name("N"),
        "stop gracefully after N orders were handled")("send", po::value(&sends)->value_name("BODY"),
                                                       "with --testing: put BODY on every memory queue at start "
                                                       "(repeatable)");
    daemon.command_line().add_check([](const po::variables_map& v) {
        if (v["wait-time"].as<int>() < 0 || v["wait-time"].as<int>() > 20)
            throw courier::usage_error("--wait-time: SQS waits 0 to 20 seconds");
        if (v.count("send") && !v["testing"].as<bool>())
            throw courier::usage_error("--send puts messages on memory queues: add --testing");
    });
    daemon.parse_or_exit(argc, argv);

    courier::manager mgr(daemon.manager_options());
    // One client for every queue: it holds the connection pool and the credentials.
    auto sqs = daemon.make_sqs_client(mgr.get_executor());
    courier::sqs_queue_options queue{.wait_time = std::chrono::seconds(wait_seconds)};
    if (visibility_seconds > 0)
        queue.visibility_timeout = std::chrono::seconds(visibility_seconds);

    std::atomic<std::uint64_t> handled{0};
    const auto handle = [&](order o, courier::context& ctx) -> asio::awaitable<void> {
        co_await handle_order(std::move(o), ctx);
        if (++handled == stop_after)
            mgr.stop();
    };
    for (auto& q : daemon.make_queues(sqs, queue))
    {
        for (const auto& body : sends)
            if (q.memory)
                q.memory->send(body);
        // The queue's name names the route in every log line.
        mgr.add_route(q.name, q.source, courier::json<order>{}, handle, daemon.route_options({.on_error = on_failure}));
    }
    return mgr.run(); // until SIGTERM/SIGINT or --stop-after; 0 when every handler finished
}

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const courier::error& e)
    {
        // what() carries the context: route, queue, action, HTTP status, the server's words.
        std::cerr << "sqs_worker: " << e.what() << '\n';
    }
    catch (const std::exception& e)
    {
        std::cerr << "sqs_worker: " << e.what() << '\n';
    }
    return 1;
}
