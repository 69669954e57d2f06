// File: eventing.cpp — eventing's shape on RabbitMQ: typed events sent with the event bus to
// their topics, and two kinds of listeners, each on a queue of its own.
//
//     eventing listen --broker-url URL [--server-name NAME] [--debug]
//     eventing send --broker-url URL [--orders N] [--price-changes N]
//
// URL is amqp://user:pass@host:port/vhost (AMQP 0-9-1) or stomp://user:pass@host:port/vhost
// (STOMP 1.2); a bare trailing `/` is the vhost `/`. Both reach the same events: a listener
// over STOMP gets what a sender over AMQP sent.
//
//   order.placed   durable: persistent messages, durable queues (orders wait while nobody
//                  listens, and survive a broker restart)
//       billing       shared: queue `order.placed::billing`; the processes running it
//                     compete for it, so each order is billed once in the cluster
//   price.changed  not durable
//       price_cache   per_process: queue `price.changed::price_cache-<server name>`; every
//                     process updates its own cache with every change. The queue goes away
//                     with its process.
//
// Run `listen` in two processes with different server names (the default is the host's
// name), then `send`. Each listener prints one line per event to stdout. SIGTERM or Ctrl-C
// stops a listener gracefully (exit 0).
#include <courier/command_line.hpp>
#include <courier/courier.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>

namespace asio = boost::asio;
namespace po = boost::program_options;

// readme: eventing-events begin
struct order_placed
{
    static constexpr courier::event_options courier_event{.name = "order.placed", .durable = true};
    std::string order_id;
    std::string sku;
    int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(order_placed, (), (order_id, sku, quantity))

struct price_changed
{
    static constexpr courier::event_options courier_event{.name = "price.changed"};
    std::string sku;
    std::int64_t cents = 0;
};
BOOST_DESCRIBE_STRUCT(price_changed, (), (sku, cents))
// readme: eventing-events end

namespace {

bool is_stomp(std::string_view url)
{
    return url.starts_with("stomp://");
}

void check_broker_url(const po::variables_map& v)
{
    if (!v.count("broker-url"))
        throw courier::usage_error("--broker-url is required");
    const auto& url = v["broker-url"].as<std::string>();
    if (!url.starts_with("amqp://") && !is_stomp(url))
        throw courier::usage_error(fmt::format("--broker-url '{}': expected amqp://... or stomp://...", url));
}

std::string host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0')
        return "localhost";
    return name;
}

// A listener's provider, over a connection of its own (closed gracefully when the route stops).
std::shared_ptr<courier::provider> listener_provider(courier::manager& mgr, const std::string& url,
                                                     const courier::logger& log, courier::broker::listener_queue queue)
{
    if (is_stomp(url))
    {
        auto connection = courier::stomp::parse_url(url);
        connection.log = log;
        return courier::make_stomp_provider(mgr.get_executor(), std::move(connection), {.listener = std::move(queue)});
    }
    auto connection = courier::amqp::parse_url(url);
    connection.log = log;
    return courier::make_amqp_provider(mgr.get_executor(), std::move(connection), {.listener = std::move(queue)});
}

int listen(int argc, char** argv)
{
    courier::command_line cli("eventing listen",
                              "Runs the billing listener (shared) and the price_cache listener (per process)\n"
                              "until SIGTERM or Ctrl-C.");
    std::string url;
    std::string server_name = host_name();
    bool debug = false;
    cli.add_options()("broker-url", po::value(&url)->value_name("URL"),
                      "amqp://user:pass@host:port/vhost or stomp://... (required)")(
        "server-name", po::value(&server_name)->value_name("NAME")->default_value(server_name),
        "this process's name in the cluster; names its per_process queues, so unique per process")(
        "debug", po::bool_switch(&debug), "log every message's steps, not only the connections' and routes'");
    cli.add_check(check_broker_url);
    cli.add_check([](const po::variables_map& v) {
        if (v["server-name"].as<std::string>().empty())
            throw courier::usage_error("--server-name must not be empty");
    });
    cli.parse_or_exit(argc, argv);

    const courier::logger log(debug ? courier::log_level::debug : courier::log_level::info);
    courier::manager mgr({.dispatch = {.log = log}});

    // readme: eventing-listeners begin
    // billing: one queue for every process running it; each order is billed once.
    std::uint64_t billed = 0;
    courier::event_router billing;
    billing.listen<order_placed>("billing",
                                 [&](const order_placed& order, courier::context& ctx) -> asio::awaitable<void> {
                                     ++billed;
                                     std::cout << fmt::format("billing: order {} ({} x {}) on {}", order.order_id,
                                                              order.quantity, order.sku, server_name)
                                               << std::endl;
                                     ctx.log(courier::log_level::debug, "billed order {}", order.order_id);
                                     co_return;
                                 });
    mgr.add_route("billing",
                  listener_provider(mgr, url, log, courier::broker::shared_listener<order_placed>("billing")), billing);

    // price_cache: a queue per process; every process sees every change.
    std::map<std::string, std::int64_t> prices;
    courier::event_router price_cache;
    price_cache.listen<price_changed>("price_cache", [&](const price_changed& change) -> asio::awaitable<void> {
        prices[change.sku] = change.cents;
        std::cout << fmt::format("price_cache: {} costs {}.{:02} on {}", change.sku, change.cents / 100,
                                 change.cents % 100, server_name)
                  << std::endl;
        co_return;
    });
    mgr.add_route("price_cache",
                  listener_provider(mgr, url, log,
                                    courier::broker::per_process_listener<price_changed>("price_cache", server_name)),
                  price_cache);
    // readme: eventing-listeners end

    const int status = mgr.run(); // until SIGTERM or SIGINT
    std::cout << fmt::format("{}: billed {} orders, {} prices cached", server_name, billed, prices.size()) << std::endl;
    return status;
}

// One connection, over AMQP or STOMP as the URL says.
class broker_client
{
public:
    broker_client(asio::any_io_executor executor, const std::string& url)
    {
        if (is_stomp(url))
            stomp_.emplace(std::move(executor), courier::stomp::parse_url(url));
        else
            amqp_.emplace(std::move(executor), courier::amqp::parse_url(url));
    }

    template <class Event> std::shared_ptr<courier::publisher> event_publisher()
    {
        return amqp_ ? amqp_->event_publisher<Event>() : stomp_->event_publisher<Event>();
    }

    // AMQP's connection.close, or STOMP's DISCONNECT with a receipt.
    asio::awaitable<void> close() { return amqp_ ? amqp_->close() : stomp_->close(); }

private:
    std::optional<courier::amqp::client> amqp_;
    std::optional<courier::stomp::client> stomp_;
};

// Sends the events with the bus, each to its topic; returns once every send was confirmed.
asio::awaitable<void> send_events(broker_client& client, int orders, int price_changes)
{
    // readme: eventing-bus begin
    courier::event_bus bus;
    bus.send_to<order_placed>(client.event_publisher<order_placed>())
        .send_to<price_changed>(client.event_publisher<price_changed>());
    for (int i = 1; i <= orders; ++i)
    {
        const order_placed order{
            .order_id = fmt::format("o-{}", i), .sku = fmt::format("sku-{}", i % 3), .quantity = i};
        co_await bus.send(order); // returns once the broker confirmed it
    }
    // readme: eventing-bus end
    for (int i = 1; i <= price_changes; ++i)
    {
        const price_changed change{.sku = fmt::format("sku-{}", i % 3), .cents = 100 * i + 99};
        co_await bus.send(change);
    }
}

int send(int argc, char** argv)
{
    courier::command_line cli("eventing send", "Sends order.placed and price.changed events, then exits.");
    std::string url;
    int orders = 10;
    int price_changes = 3;
    cli.add_options()("broker-url", po::value(&url)->value_name("URL"),
                      "amqp://user:pass@host:port/vhost or stomp://... (required)")(
        "orders", po::value(&orders)->value_name("N")->default_value(10), "order.placed events to send")(
        "price-changes", po::value(&price_changes)->value_name("N")->default_value(3), "price.changed events to send");
    cli.add_check(check_broker_url);
    cli.add_check([](const po::variables_map& v) {
        if (v["orders"].as<int>() < 0 || v["price-changes"].as<int>() < 0)
            throw courier::usage_error("--orders and --price-changes: 0 or more");
    });
    cli.parse_or_exit(argc, argv);

    asio::io_context io;
    std::exception_ptr failure;
    broker_client client(io.get_executor(), url); // its connection's coroutine runs on `io`
    asio::co_spawn(io, send_events(client, orders, price_changes), [&](std::exception_ptr e) {
        failure = e;
        // Sent or failed (no broker within the publish timeout): close, which ends io.run().
        asio::co_spawn(io, client.close(), asio::detached);
    });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    std::cout << fmt::format("sent {} order.placed and {} price.changed events", orders, price_changes) << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string_view usage = "usage: eventing listen|send --broker-url URL [...] (--help for each)\n";
    if (argc < 2)
    {
        std::cerr << usage;
        return courier::exit_usage;
    }
    const std::string_view command = argv[1];
    try
    {
        if (command == "listen")
            return listen(argc - 1, argv + 1);
        if (command == "send")
            return send(argc - 1, argv + 1);
        if (command == "--help" || command == "-h")
        {
            std::cout << usage;
            return 0;
        }
        std::cerr << "eventing: unknown command '" << command << "'\n" << usage;
        return courier::exit_usage;
    }
    catch (const std::exception& e)
    {
        // courier::error's what() carries the context: the queue, the broker's reply.
        std::cerr << "eventing " << command << ": " << e.what() << '\n';
    }
    return 1;
}
