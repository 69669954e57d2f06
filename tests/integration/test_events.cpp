// Events against fauxqs, in microcosm-pubsub's shape: an event bus publishing by media type
// to two SNS topics (and one event straight to SQS), both topics delivering to one queue with
// raw delivery and to another through the SNS envelope; on each queue one route dispatches
// to typed listeners, and the headers (a tenant, the correlation id) survive every path.
#include "sns_fixture.hpp"

#include <courier/events.hpp>

#include <mutex>

using namespace courier_test;
using namespace std::chrono_literals;

namespace {

struct order_created
{
    static constexpr courier::event_options courier_event{.name = "order.created",
                                                          .media_type = "application/vnd.courier.order.created"};
    std::string order;
    int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(order_created, (), (order, quantity))

struct order_cancelled
{
    static constexpr courier::event_options courier_event{.name = "order.cancelled",
                                                          .media_type = "application/vnd.courier.order.cancelled"};
    std::string order;
    std::string reason;
};
BOOST_DESCRIBE_STRUCT(order_cancelled, (), (order, reason))

struct order_noted
{
    static constexpr courier::event_options courier_event{.name = "order.noted",
                                                          .media_type = "application/vnd.courier.order.noted"};
    std::string order;
};
BOOST_DESCRIBE_STRUCT(order_noted, (), (order))

// Keeps the tenant header for the listeners.
struct tenant
{
    std::string name;
};
class tenant_pipeline final : public courier::envelope_pipeline
{
public:
    void on_handle(const courier::incoming_envelope& envelope, const courier::listener_descriptor&,
                   courier::context& ctx) override
    {
        const auto* name = envelope.header("tenant");
        ctx.values().emplace<tenant>(name ? *name : "none");
    }
};

} // namespace

TEST_CASE_FIXTURE(sns_fixture, "events: media types over SNS (raw and enveloped) and SQS reach typed listeners "
                               "with their headers")
{
    const auto created_topic = create_topic("events-created");
    const auto cancelled_topic = create_topic("events-cancelled");
    const auto raw_url = create_queue("events-raw");
    const auto wrapped_url = create_queue("events-wrapped");
    for (const auto& topic : {created_topic, cancelled_topic})
    {
        subscribe(topic, raw_url, {{"RawMessageDelivery", "true"}});
        subscribe(topic, wrapped_url);
    }

    auto ids = std::make_shared<courier::correlation_id_pipeline>();
    courier::event_bus bus(courier::event_name_location::media_type_attribute());
    bus.send_to<order_created>(courier::make_sns_publisher(sns, created_topic))
        .send_to<order_cancelled>(courier::make_sns_publisher(sns, cancelled_topic))
        .send_to<order_noted>(courier::make_sqs_publisher(client, raw_url))
        .add_pipeline(ids);
    run([&]() -> asio::awaitable<void> {
        const order_created created{"o-1", 2};
        courier::attribute_map headers{{"tenant", {"String", "acme"}}, {"correlation_id", {"String", "chain-1"}}};
        CHECK_FALSE((co_await bus.send(created, std::move(headers))).empty());
        const order_cancelled cancelled{"o-2", "changed mind"};
        courier::attribute_map others{{"tenant", {"String", "globex"}}};
        co_await bus.send(cancelled, std::move(others));
        const order_noted noted{"o-3"};
        co_await bus.send(noted);
    });

    std::mutex mutex;
    std::vector<std::string> seen;
    auto router_for = [&](std::string route, courier::event_router_options options) {
        courier::event_router router(std::move(options));
        router.add_pipeline(ids).add_pipeline(std::make_shared<tenant_pipeline>());
        auto note = [&, route](std::string what, courier::context& ctx) {
            std::lock_guard lock(mutex);
            seen.push_back(route + " " + what + " tenant=" + ctx.find_value<tenant>()->name +
                           " correlation=" + std::string(courier::correlation_id_of(ctx)).substr(0, 7));
        };
        router.listen<order_created>("stock", [note](const order_created& o, courier::context& ctx) {
            note("created " + o.order + " x" + std::to_string(o.quantity), ctx);
        });
        router.listen<order_cancelled>("refund",
                                       [note](order_cancelled o, courier::context& ctx) -> asio::awaitable<void> {
                                           note("cancelled " + o.order + " (" + o.reason + ")", ctx);
                                           co_return;
                                       });
        router.listen<order_noted>(
            "audit", [note](const order_noted& o, courier::context& ctx) { note("noted " + o.order, ctx); });
        return router;
    };
    std::vector<courier::route> routes;
    routes.emplace_back("raw", courier::make_sqs_provider(client, queue_options(raw_url)),
                        router_for("raw", {.where = courier::event_name_location::media_type_attribute()}));
    routes.emplace_back("wrapped", courier::make_sqs_provider(client, queue_options(wrapped_url)),
                        router_for("wrapped", {.where = courier::event_name_location::media_type_attribute(),
                                               .unwrap = courier::sns_envelope{}}));
    run_routes(std::move(routes), [&] {
        std::lock_guard lock(mutex);
        return seen.size() >= 5;
    });
    std::sort(seen.begin(), seen.end());
    // The correlation id is random where none was sent: only its first characters are
    // compared, and only where they are known.
    REQUIRE(seen.size() == 5);
    CHECK(seen[0] ==
          "raw cancelled o-2 (changed mind) tenant=globex correlation=" + seen[0].substr(seen[0].size() - 7));
    CHECK(seen[1] == "raw created o-1 x2 tenant=acme correlation=chain-1");
    CHECK(seen[2].starts_with("raw noted o-3 tenant=none correlation="));
    CHECK(seen[3] ==
          "wrapped cancelled o-2 (changed mind) tenant=globex correlation=" + seen[0].substr(seen[0].size() - 7));
    CHECK(seen[4] == "wrapped created o-1 x2 tenant=acme correlation=chain-1");
    CHECK(seen[0].substr(seen[0].size() - 7) != seen[2].substr(seen[2].size() - 7));
    CHECK(remaining(raw_url) == 0);
    CHECK(remaining(wrapped_url) == 0);
}

TEST_CASE_FIXTURE(sns_fixture, "events: more than 10 headers are refused before sending, naming the limit")
{
    const auto url = create_queue("events-many-headers");
    courier::event_bus bus;
    bus.send_to<order_noted>(courier::make_sqs_publisher(client, url));
    courier::attribute_map headers;
    for (int i = 0; i < 10; ++i)
        headers["h" + std::to_string(i)] = {"String", "v"};
    try
    {
        run([&]() -> asio::awaitable<void> {
            const order_noted noted{"o-4"};
            co_await bus.send(noted, headers); // ten, and the bus adds the name: eleven
        });
        FAIL("expected an error");
    }
    catch (const courier::error& e)
    {
        CHECK(contains(e.what(), "MessageAttributes has 11 attributes; SQS takes at most 10 per message"));
    }
    CHECK(remaining(url) == 0);
}
