// The AMQP and STOMP providers behind real routes on RabbitMQ: retries through retry queues
// with the delivery count in our own header, a poison message reaching the dead-letter
// destination after max_attempts (a configured queue, or the queue's own dead-letter
// exchange), eventing's per_process listener queues with two processes' worth of consumers,
// the graceful stop (consumer cancelled, unstarted deliveries given back at once, acks
// after the cancel, connection closed), and events through the event bus and router.
#include "amqp/connection.hpp"
#include "provider_fixture.hpp"
#include "stomp/connection.hpp"

#include <courier/amqp.hpp>
#include <courier/events.hpp>
#include <courier/stomp.hpp>

#include <algorithm>
#include <mutex>
#include <set>
#include <sstream>

using namespace courier_test;
namespace amqp = courier::amqp;
namespace stomp = courier::stomp;

namespace {

courier::broker::retry_policy three_attempts(std::string dead_letter_queue)
{
    courier::broker::retry_policy r;
    r.buckets = {1s, 5s};
    r.max_attempts = 3;
    r.dead_letter_queue = std::move(dead_letter_queue);
    return r;
}

} // namespace

TEST_CASE_FIXTURE(provider_fixture,
                  "broker providers: retries count in a header and a poison message reaches the dead-letter queue")
{
    for (const auto t : {transport::amqp, transport::stomp})
    {
        const std::string transport_name = t == transport::amqp ? "amqp" : "stomp";
        CAPTURE(transport_name);
        const auto queue = unique(t == transport::amqp ? "poison-amqp" : "poison-stomp");
        auto provider = make(t, queue, three_attempts(queue + ".dead"));
        amqp::client client(io.get_executor(), amqp_options());
        auto publisher = client.publisher("", queue);
        std::vector<std::uint32_t> counts;
        std::vector<std::chrono::steady_clock::time_point> times;
        std::vector<courier::route> routes;
        routes.emplace_back(
            "poison", provider,
            [&](const courier::message& m) -> asio::awaitable<void> {
                counts.push_back(m.receive_count);
                times.push_back(std::chrono::steady_clock::now());
                CHECK(m.body == "bad");
                CHECK(m.attributes.at("kind").value == "poison");
                throw std::runtime_error("always fails");
                co_return;
            },
            courier::route_options{.on_error = [](const courier::context&, std::exception_ptr) {
                return courier::error_action::retry_after(800ms);
            }});
        std::string id;
        bool published = false;
        // Publish once the route declared the queue (its provider opened).
        auto publish = [&]() -> asio::awaitable<void> {
            amqp::queue_declare_args q{.queue = queue, .durable = true};
            co_await client.connection_ptr()->declare_queue(std::move(q));
            courier::outgoing_message m;
            m.body = "bad";
            m.attributes["kind"] = {"String", "poison"};
            id = co_await publisher->publish(std::move(m));
            published = true;
        };
        asio::co_spawn(io, publish(), asio::detached);
        serve(std::move(routes), [&] { return published && counts.size() >= 3 && ready(queue + ".dead") == 1; });
        CHECK(counts == std::vector<std::uint32_t>{1, 2, 3});
        REQUIRE(times.size() == 3);
        CHECK(times[1] - times[0] >= 1s); // the 1 s bucket, never less than asked
        CHECK(ready(queue) == 0);
        CHECK(ready(queue + ".retry.1s") == 0);
        // The dead letter: body, attributes, id and the count intact.
        auto sub = client.connection_ptr()->subscribe({.queue = queue + ".dead", .prefetch = 1});
        run([&]() -> asio::awaitable<void> {
            auto got = co_await sub->receive(1, 10s);
            REQUIRE(got.size() == 1);
            CHECK(got[0].body == "bad");
            CHECK(got[0].props.message_id == id);
            const auto* n = got[0].props.headers->find("x-courier-deliveries");
            REQUIRE(n != nullptr);
            const auto* kind = got[0].props.headers->find("kind");
            REQUIRE(kind != nullptr);
            CHECK(std::get<std::string>(kind->value) == "poison");
            co_await sub->ack(got[0]);
            co_await client.close();
        });
        CHECK(logs.contains("dead-lettered to " + queue + ".dead after 3 deliveries"));
    }
}

TEST_CASE_FIXTURE(provider_fixture, "broker providers: a quorum queue counts exactly, and without a dead-letter queue "
                                    "the queue's own dead-letter exchange gets the poison message")
{
    // The queue exists already, made by another client with its dead-letter exchange: the
    // provider's own declaration (quorum, no arguments) is refused and the queue used as it is.
    const auto queue = unique("poison-quorum");
    amqp::client client(io.get_executor(), amqp_options());
    run([&]() -> asio::awaitable<void> {
        amqp::queue_declare_args dead{.queue = queue + ".dlx", .durable = true};
        co_await client.connection_ptr()->declare_queue(std::move(dead));
        amqp::queue_declare_args q{.queue = queue, .durable = true};
        q.arguments.set("x-queue-type", std::string("quorum"));
        q.arguments.set("x-dead-letter-exchange", std::string());
        q.arguments.set("x-dead-letter-routing-key", queue + ".dlx");
        co_await client.connection_ptr()->declare_queue(std::move(q));
        courier::outgoing_message m;
        m.body = "bad";
        auto publisher = client.publisher("", queue); // named: GCC 12 frees a temporary of a co_await expression twice
        co_await publisher->publish(std::move(m));
    });
    auto policy = three_attempts("");
    policy.max_attempts = 4;
    auto provider = courier::make_amqp_provider(
        io.get_executor(), amqp_options(),
        {.queue = queue, .type = amqp::queue_type::quorum, .wait_time = 200ms, .retry = policy});
    std::vector<std::uint32_t> counts;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "quorum", provider,
        [&](const courier::message& m) -> asio::awaitable<void> {
            counts.push_back(m.receive_count);
            throw std::runtime_error("always fails");
            co_return;
        },
        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr) {
            // Released twice (counted by the quorum queue), then retried through a retry queue.
            return counts.size() <= 2 ? courier::error_action::release() : courier::error_action::retry_after(500ms);
        }});
    serve(std::move(routes), [&] { return counts.size() >= 4 && ready(queue + ".dlx") == 1; });
    CHECK(counts == std::vector<std::uint32_t>{1, 2, 3, 4});
    CHECK(logs.contains("exists with other arguments"));
    CHECK(logs.contains("dead-lettered after 4 deliveries"));
    run([&]() -> asio::awaitable<void> { co_await client.close(); });
}

TEST_CASE_FIXTURE(provider_fixture, "broker providers: per_process listeners each get every event, others compete")
{
    for (const auto t : {transport::amqp, transport::stomp})
    {
        const std::string transport_name = t == transport::amqp ? "amqp" : "stomp";
        CAPTURE(transport_name);
        const auto event = unique(t == transport::amqp ? "order.created.amqp" : "order.created.stomp");
        // Two processes (server names s1, s2), each with a per_process "audit" listener and a
        // shared "billing" listener.
        auto listener = [&](std::string name, bool per_process, std::string server, bool durable) {
            return courier::broker::listener_queue{.event = event,
                                                   .listener = std::move(name),
                                                   .per_process = per_process,
                                                   .server_name = std::move(server),
                                                   .durable = durable};
        };
        std::vector<std::shared_ptr<courier::provider>> audit{make(t, "", {}, listener("audit", true, "s1", true)),
                                                              make(t, "", {}, listener("audit", true, "s2", true))};
        std::vector<std::shared_ptr<courier::provider>> billing{
            make(t, "", {}, listener("billing", false, "s1", false)),
            make(t, "", {}, listener("billing", false, "s2", false))};
        amqp::client client(io.get_executor(), amqp_options());
        std::map<std::string, std::multiset<std::string>> seen; // provider -> bodies
        run([&]() -> asio::awaitable<void> {
            for (auto& p : audit)
                co_await p->open(10);
            for (auto& p : billing)
                co_await p->open(10);
            co_await pause(500ms); // STOMP subscriptions are not confirmed: let them bind
            auto publisher =
                client.publisher(std::string(courier::broker::event_exchange), event, {.mandatory = false});
            for (int i = 0; i < 4; ++i)
            {
                courier::outgoing_message m;
                m.body = "event " + std::to_string(i);
                co_await publisher->publish(std::move(m));
            }
            auto take = [&](const std::string& key, courier::provider& p) -> asio::awaitable<void> {
                for (auto& m : co_await p.receive(10))
                {
                    seen[key].insert(m.body);
                    co_await p.ack(m);
                }
            };
            for (int round = 0; round < 20; ++round)
            {
                co_await take("audit-s1", *audit[0]);
                co_await take("audit-s2", *audit[1]);
                co_await take("billing", *billing[0]);
                co_await take("billing", *billing[1]);
            }
        });
        const std::multiset<std::string> all{"event 0", "event 1", "event 2", "event 3"};
        CHECK(seen["audit-s1"] == all);
        CHECK(seen["audit-s2"] == all);
        CHECK(seen["billing"] == all); // between them, once each
        const auto queues = broker.ctl("list_queues name durable auto_delete --no-table-headers --quiet");
        CHECK(contains(queues, event + "::audit-s1\ttrue\tfalse"));
        CHECK(contains(queues, event + "::audit-s2\ttrue\tfalse"));
        CHECK(contains(queues, event + "::billing\tfalse\ttrue"));
        run([&]() -> asio::awaitable<void> {
            for (auto& p : billing)
                co_await p->close();
            for (auto& p : audit)
                co_await p->close();
            co_await client.close();
            co_await pause(500ms);
        });
        // The non-durable queue went away with its consumers; the durable ones stay.
        const auto after = broker.ctl("list_queues name --no-table-headers --quiet");
        CHECK_FALSE(contains(after, event + "::billing"));
        CHECK(contains(after, event + "::audit-s1"));
    }
}

TEST_CASE_FIXTURE(provider_fixture, "broker providers: a graceful stop cancels the consumer, gives back what did not "
                                    "start at once, acks what finished, and closes the connection")
{
    for (const auto t : {transport::amqp, transport::stomp})
    {
        const std::string transport_name = t == transport::amqp ? "amqp" : "stomp";
        CAPTURE(transport_name);
        const auto queue = unique(t == transport::amqp ? "stop-amqp" : "stop-stomp");
        // A prefetch above the route's room: six deliveries wait unstarted in the provider.
        auto provider = make(t, queue, {}, std::nullopt, 10);
        amqp::client client(io.get_executor(), amqp_options());
        auto conn = client.connection_ptr();
        run([&]() -> asio::awaitable<void> {
            amqp::queue_declare_args q{.queue = queue, .durable = true};
            co_await conn->declare_queue(std::move(q));
            for (int i = 0; i < 20; ++i)
            {
                courier::outgoing_message m;
                m.body = std::to_string(i);
                auto publisher =
                    client.publisher("", queue); // named: GCC 12 frees a temporary of a co_await expression twice
                co_await publisher->publish(std::move(m));
            }
        });
        std::set<std::string> started, finished;
        std::vector<courier::route> routes;
        routes.emplace_back(
            "stop", provider,
            [&](const courier::message& m) -> asio::awaitable<void> {
                started.insert(m.body);
                co_await pause(1500ms);
                finished.insert(m.body);
            },
            courier::route_options{.max_in_flight = 4, .receive_batch = 2});
        // Another consumer takes what the stopping route gives back, while its handlers run.
        std::set<std::string> taken_elsewhere;
        bool stopped = false;
        const auto stats = serve(std::move(routes), [&] {
            if (started.size() >= 4 && !stopped)
            {
                stopped = true;
                asio::co_spawn(
                    io,
                    [&]() -> asio::awaitable<void> {
                        auto other = conn->subscribe({.queue = queue, .prefetch = 50});
                        while (taken_elsewhere.size() < 16)
                            for (auto& d : co_await other->receive(50, 10s))
                            {
                                // Given back at once: well before the route's handlers finished.
                                // On STOMP only what was buffered at the stop is (the broker may
                                // push again into the freed prefetch slots until the handlers are
                                // settled and the subscription goes; see stop_receiving).
                                if (t == transport::amqp || taken_elsewhere.size() < 6)
                                    CHECK(finished.empty());
                                taken_elsewhere.insert(d.body);
                                co_await other->ack(d);
                            }
                    },
                    asio::detached);
            }
            return stopped;
        });
        CHECK(started.size() == 4);
        CHECK(finished == started); // a graceful stop lets them finish
        CHECK(stats[0].acked == 4);
        run([&]() -> asio::awaitable<void> {
            while (taken_elsewhere.size() < 16)
                co_await pause(50ms);
            co_await client.close();
        });
        for (const auto& s : started)
            CHECK(taken_elsewhere.count(s) == 0);
        CHECK(ready(queue) == 0);
    }
    CHECK(logs.contains("DISCONNECT receipted"));
    CHECK(logs.contains("connection.close-ok"));
}

TEST_CASE_FIXTURE(provider_fixture, "broker providers: a message held near the consumer_timeout is warned about")
{
    const auto queue = unique("held");
    auto provider = courier::make_amqp_provider(io.get_executor(), amqp_options(),
                                                {.queue = queue, .wait_time = 200ms, .consumer_timeout = 1200ms});
    amqp::client client(io.get_executor(), amqp_options());
    run([&]() -> asio::awaitable<void> {
        co_await provider->open(1);
        courier::outgoing_message m;
        m.body = "slow";
        auto publisher = client.publisher("", queue); // named: GCC 12 frees a temporary of a co_await expression twice
        co_await publisher->publish(std::move(m));
        std::vector<courier::message> got;
        while (got.empty())
            got = co_await provider->receive(1);
        co_await pause(1500ms); // 5/6 of the timeout is 1 s; the watch looks every 100 ms
        CHECK(logs.contains("held unacknowledged"));
        co_await provider->ack(got[0]);
        co_await provider->close();
        co_await client.close();
    });
    CHECK(logs.count("held unacknowledged") == 1);
}

namespace {

struct parcel_sent
{
    static constexpr courier::event_options courier_event{.name = "parcel.sent", .durable = true};
    std::string parcel;
};
BOOST_DESCRIBE_STRUCT(parcel_sent, (), (parcel))

struct parcel_lost
{
    static constexpr courier::event_options courier_event{.name = "parcel.lost"};
    std::string parcel;
    std::string reason;
};
BOOST_DESCRIBE_STRUCT(parcel_lost, (), (parcel, reason))

} // namespace

TEST_CASE_FIXTURE(provider_fixture, "broker providers: events sent with the bus reach typed listeners, with their "
                                    "headers and correlation ids as native headers")
{
    for (const auto t : {transport::amqp, transport::stomp})
    {
        const std::string transport_name = t == transport::amqp ? "amqp" : "stomp";
        CAPTURE(transport_name);
        const auto queue = unique("events-" + transport_name);
        auto provider = make(t, queue, {});
        amqp::client amqp_client(io.get_executor(), amqp_options());
        stomp::client stomp_client(io.get_executor(), stomp_options());
        auto destination =
            t == transport::amqp ? amqp_client.publisher("", queue) : stomp_client.publisher("/queue/" + queue);

        auto ids = std::make_shared<courier::correlation_id_pipeline>();
        courier::event_bus bus;
        bus.send_to<parcel_sent>(destination).send_to<parcel_lost>(destination).add_pipeline(ids);
        courier::event_router router;
        router.add_pipeline(ids);
        std::mutex mutex; // the plain listener runs on the blocking pool
        std::vector<std::string> seen;
        router.listen<parcel_sent>("tracking", [&](const parcel_sent& e, courier::context& ctx) {
            std::lock_guard lock(mutex);
            seen.push_back("sent " + e.parcel + " " + std::string(courier::correlation_id_of(ctx)) + " " +
                           ctx.raw().attributes.at("tenant").value);
        });
        router.listen<parcel_lost>("claims", [&](parcel_lost e, courier::context& ctx) -> asio::awaitable<void> {
            std::lock_guard lock(mutex);
            seen.push_back("lost " + e.parcel + " (" + e.reason + ") " + std::string(courier::correlation_id_of(ctx)));
            co_return;
        });
        std::vector<courier::route> routes;
        routes.emplace_back("events", provider, router);
        run([&]() -> asio::awaitable<void> {
            amqp::queue_declare_args declared{.queue = queue, .durable = true}; // as the provider declares it
            co_await amqp_client.connection_ptr()->declare_queue(std::move(declared));
            const parcel_sent sent{"p-1"};
            courier::attribute_map headers{{"tenant", {"String", "acme"}}, {"correlation_id", {"String", "chain-9"}}};
            co_await bus.send(sent, std::move(headers));
            const parcel_lost lost{"p-2", "storm"};
            courier::attribute_map no_id{{"tenant", {"String", "globex"}}};
            co_await bus.send(lost, std::move(no_id));
        });
        serve(std::move(routes), [&] {
            std::lock_guard lock(mutex);
            return seen.size() >= 2;
        });
        REQUIRE(seen.size() == 2);
        std::sort(seen.begin(), seen.end());
        CHECK(seen[1] == "sent p-1 chain-9 acme");
        CHECK(seen[0].starts_with("lost p-2 (storm) "));
        CHECK(seen[0].size() == std::string("lost p-2 (storm) ").size() + 36); // a new id at the edge
        CHECK(router.stats().dispatched == 2);
        run([&]() -> asio::awaitable<void> {
            co_await amqp_client.close();
            co_await stomp_client.close();
        });
    }
}
