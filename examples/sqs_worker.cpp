// File: sqs_worker.cpp — an SQS service to copy: typed orders from one or more queues.
//
//     sqs_worker --queue-url URL [--queue-url URL2 ...] [--endpoint URL] [--region R]
//                [--concurrency N] [--visibility-timeout S] [--wait-time S]
//                [--log-level trace|debug|info|warning|error]
//
// One route per queue decodes each body as an `order` and logs it. Failures are retried
// with exponential backoff; a body that is not an order is left for the queue's redrive
// policy to move to its dead-letter queue. Credentials come from the AWS chain
// (environment, ~/.aws files, web identity, ECS, EC2), the endpoint from --endpoint or
// AWS_ENDPOINT_URL_SQS, the region from --region, AWS_REGION or the profile. SIGTERM or
// Ctrl-C stops it gracefully (handlers finish, acks are flushed); a second one cancels
// the handlers still running. Try it with a message such as
//
//     {"id": "o-1", "customer": "c-7", "sku": "tea", "quantity": 2, "note": "gift"}
#include <courier/courier.hpp>
#include <courier/sqs.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
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

struct worker_options
{
    std::vector<std::string> queue_urls;
    courier::sqs_client_options sqs;
    std::size_t concurrency = 10;
    courier::sqs_queue_options queue; // wait time and visibility timeout; URL set per route
    courier::log_level level = courier::log_level::info;
};

// Flags are `--name value`; anything else is a usage error (exit status 2).
worker_options parse_flags(int argc, char** argv)
{
    worker_options o;
    const auto number = [](const std::string& flag, const std::string& text) {
        if (text.find_first_not_of("0123456789") != std::string::npos)
            throw std::invalid_argument(flag + " needs a number, got " + text);
        return std::stol(text);
    };
    const char* levels[] = {"trace", "debug", "info", "warning", "error"};
    for (int i = 1; i < argc; i += 2)
    {
        const std::string flag = argv[i];
        const std::string value = i + 1 < argc ? argv[i + 1] : "";
        if (value.empty())
            throw std::invalid_argument(flag + " needs a value");
        if (flag == "--queue-url")
            o.queue_urls.push_back(value);
        else if (flag == "--endpoint")
            o.sqs.aws.endpoint = value;
        else if (flag == "--region")
            o.sqs.aws.region = value;
        else if (flag == "--concurrency")
            o.concurrency = static_cast<std::size_t>(number(flag, value));
        else if (flag == "--visibility-timeout")
            o.queue.visibility_timeout = std::chrono::seconds(number(flag, value));
        else if (flag == "--wait-time")
            o.queue.wait_time = std::chrono::seconds(number(flag, value));
        else if (const auto* l = std::find(std::begin(levels), std::end(levels), value);
                 flag == "--log-level" && l != std::end(levels))
            o.level = static_cast<courier::log_level>(l - std::begin(levels));
        else
            throw std::invalid_argument("unknown flag or value: " + flag + " " + value);
    }
    if (o.queue_urls.empty())
        throw std::invalid_argument("give at least one --queue-url");
    o.sqs.aws.log = courier::logger(o.level);
    return o;
}

// The business logic. Returning acks the message; throwing hands it to `on_failure`.
asio::awaitable<void> handle_order(order o, courier::context& ctx)
{
    ctx.log(courier::log_level::info, "order {} for {}: {} x {} {} (delivery {})", o.id,
            o.customer, o.quantity, o.sku, o.note.value_or(""), ctx.raw().receive_count);
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
    const auto options = parse_flags(argc, argv);
    courier::manager mgr({.dispatch = {.log = courier::logger(options.level)}});
    // One client for every queue: it holds the connection pool and the credentials.
    auto sqs = std::make_shared<courier::sqs_client>(mgr.get_executor(), options.sqs);
    for (const auto& url : options.queue_urls)
    {
        auto queue = options.queue;
        queue.queue_url = url;
        // The queue's name (the URL's last segment) names the route in every log line.
        mgr.add_route(url.substr(url.find_last_of('/') + 1),
                      courier::make_sqs_provider(sqs, std::move(queue)), courier::json<order>{},
                      handle_order, {.max_in_flight = options.concurrency, .on_error = on_failure});
    }
    return mgr.run(); // until SIGTERM/SIGINT; 0 when every handler finished
}

int main(int argc, char** argv)
{
    try
    {
        return main_impl(argc, argv);
    }
    catch (const std::invalid_argument& e)
    {
        std::cerr << "sqs_worker: " << e.what() << " (usage: top of sqs_worker.cpp)\n";
        return 2;
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
