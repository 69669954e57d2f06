// SNS against a real SNS/SQS-compatible server (fauxqs): topics delivering to subscribed
// queues, consumed through courier routes with the envelope translators; the publisher, the
// media-type producer, raw delivery, FIFO topics and server errors.
#include "sns_fixture.hpp"

#include <courier/sns.hpp>

#include <algorithm>
#include <mutex>
#include <optional>

using namespace courier_test;
using namespace std::chrono_literals;

namespace {

struct order_created
{
    std::string order;
    int quantity = 0;
    std::string note;
};
BOOST_DESCRIBE_STRUCT(order_created, (), (order, quantity, note))

const courier::attribute_map sent_attributes{
    {"kind", {"String", "order.created & more = fun"}},
    {"amount", {"Number", "12.50"}},
    {"blob", {"Binary", std::string("\x00\x01\xfe\xff", 4)}},
    {"note",
     {"String", "\xc3\xbcn\xc3\xaf c\xc3\xb6"
                "d\xc3\xa9 + 50%"}},
};

const std::string tricky_body = "line 1\nline \"2\" + 50% & more = \xe2\x98\x83 {\"json\":[1,2]}\ttab";

} // namespace

TEST_CASE_FIXTURE(sns_fixture, "sns: a published message arrives unwrapped, with its attributes, and is acked")
{
    const auto topic = create_topic("orders");
    const auto url = create_queue("sns-orders");
    const auto subscription = subscribe(topic, url);
    CHECK(subscription.starts_with(topic + ":"));

    auto publisher = courier::make_sns_publisher(sns, topic);
    const auto message_id = run([&]() -> asio::awaitable<std::string> {
        courier::outgoing_message msg{.body = tricky_body, .attributes = sent_attributes};
        co_return co_await publisher->publish(std::move(msg));
    });
    CHECK_FALSE(message_id.empty());

    const auto got = receive_one(url, courier::sns_envelope{});
    CHECK(got.body == tricky_body);
    CHECK(got.attributes == sent_attributes);
    CHECK(got.system_attributes.at("TopicArn") == topic);
    CHECK(got.system_attributes.at("SnsMessageId") == message_id);
    CHECK_FALSE(got.system_attributes.at("Timestamp").empty());
    CHECK(got.system_attributes.count("Subject") == 0);
    CHECK(got.system_attributes.count("SentTimestamp") == 1); // SQS's own stay
    CHECK(got.receive_count == 1);
    CHECK(got.id != message_id); // the SQS message's id: acknowledging acts on it
    CHECK(last_routes_stats.at(0).acked == 1);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sns_fixture, "sns: sns_json decodes the body; the subject arrives as a system attribute")
{
    const auto topic = create_topic("typed");
    const auto url = create_queue("sns-typed");
    subscribe(topic, url);
    run([&]() -> asio::awaitable<void> {
        courier::sns_message msg(courier::json_encode(order_created{"o-17", 3, "caf\xc3\xa9 \"deluxe\"\n"}), {},
                                 "order created");
        co_await sns->publish(topic, std::move(msg));
    });

    std::optional<order_created> got;
    std::optional<std::string> subject;
    std::vector<courier::route> routes;
    routes.emplace_back("typed", courier::make_sqs_provider(client, queue_options(url)),
                        courier::sns_json<order_created>{},
                        [&](order_created o, courier::context& ctx) -> asio::awaitable<void> {
                            // The context holds the raw SQS delivery: the envelope, still wrapped.
                            subject = courier::sns_envelope{}(ctx.raw()).system_attributes.at("Subject");
                            got = std::move(o);
                            co_return;
                        });
    run_routes(std::move(routes), [&] { return got.has_value(); });
    REQUIRE(got);
    CHECK(got->order == "o-17");
    CHECK(got->quantity == 3);
    CHECK(got->note == "caf\xc3\xa9 \"deluxe\"\n");
    CHECK(subject == "order created");
}

TEST_CASE_FIXTURE(sns_fixture, "sns: the media-type producer sends each message to its media type's topic")
{
    const auto created_topic = create_topic("created");
    const auto cancelled_topic = create_topic("cancelled");
    const auto created_url = create_queue("sns-created");
    const auto cancelled_url = create_queue("sns-cancelled");
    subscribe(created_topic, created_url);
    subscribe(cancelled_topic, cancelled_url);

    const std::string created = "application/vnd.courier.order.created";
    const std::string cancelled = "application/vnd.courier.order.cancelled";
    courier::media_type_producer producer(sns, {{created, created_topic}, {cancelled, cancelled_topic}});
    run([&]() -> asio::awaitable<void> {
        // Named, not a braced temporary: GCC 12 destroys those twice inside co_await.
        const order_created typed{"o-1", 2, "typed"};
        co_await producer.produce(created, typed);
        courier::attribute_map extra{{"tenant", {"String", "acme"}}, {"media_type", {"String", "forged"}}};
        co_await producer.produce(cancelled, R"({"order":"o-2"})", std::move(extra));
    });
    try
    {
        run([&]() -> asio::awaitable<void> { co_await producer.produce("application/vnd.unknown", "{}"); });
        FAIL("expected a configuration error");
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::bad_configuration);
        CHECK(std::string(e.what()).find("'application/vnd.unknown'") != std::string::npos);
    }

    std::mutex mutex;
    std::vector<std::pair<std::string, courier::message>> seen; // (route, message)
    std::vector<courier::route> routes;
    for (const auto& [name, url] : {std::pair("created", created_url), std::pair("cancelled", cancelled_url)})
        routes.emplace_back(name, courier::make_sqs_provider(client, queue_options(url)), courier::sns_envelope{},
                            [&, name = std::string(name)](courier::message m) -> asio::awaitable<void> {
                                std::lock_guard lock(mutex);
                                seen.emplace_back(name, std::move(m));
                                co_return;
                            });
    run_routes(std::move(routes), [&] {
        std::lock_guard lock(mutex);
        return seen.size() >= 2;
    });
    REQUIRE(seen.size() == 2);
    std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    CHECK(seen[0].first == "cancelled");
    CHECK(seen[0].second.body == R"({"order":"o-2"})");
    CHECK(seen[0].second.attributes.at("media_type") == courier::attribute{"String", cancelled});
    CHECK(seen[0].second.attributes.at("tenant") == courier::attribute{"String", "acme"});
    CHECK(seen[1].first == "created");
    CHECK(seen[1].second.attributes.at("media_type") == courier::attribute{"String", created});
    CHECK(courier::json_decode<order_created>(seen[1].second.body).note == "typed");
    CHECK(remaining(created_url) == 0);
    CHECK(remaining(cancelled_url) == 0);
}

TEST_CASE_FIXTURE(sns_fixture, "sns: with raw message delivery the queue gets the bare message and attributes")
{
    const auto topic = create_topic("raw");
    const auto url = create_queue("sns-raw");
    subscribe(topic, url, {{"RawMessageDelivery", "true"}});
    run([&]() -> asio::awaitable<void> {
        courier::sns_message msg(tricky_body, sent_attributes);
        co_await sns->publish(topic, std::move(msg));
    });
    const auto got = receive_one(url, [](const courier::message& m) { return m; });
    CHECK(got.body == tricky_body);
    CHECK(got.attributes == sent_attributes);
}

TEST_CASE_FIXTURE(sns_fixture, "sns: a FIFO topic delivers the group to a FIFO queue, and the envelope keeps it")
{
    const auto topic = create_topic("fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}});
    const auto url = create_queue("sns-fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
    subscribe(topic, url);
    auto publisher = courier::make_sns_publisher(sns, topic);
    run([&]() -> asio::awaitable<void> {
        courier::outgoing_message msg{.body = "first", .group_id = "g-7"};
        co_await publisher->publish(std::move(msg));
    });
    const auto got = receive_one(url, courier::sns_envelope{});
    CHECK(got.body == "first");
    CHECK(got.group_id == "g-7");
}

TEST_CASE_FIXTURE(sns_fixture, "sns: server errors carry the action, the topic and what SNS said")
{
    const auto missing = "arn:aws:sns:us-east-1:000000000000:does-not-exist";
    try
    {
        run([&]() -> asio::awaitable<void> {
            courier::sns_message msg("x");
            co_await sns->publish(missing, std::move(msg));
        });
        FAIL("expected an error");
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::not_found); // retrying cannot heal it
        CHECK(e.context().action == "Publish");
        CHECK(e.context().queue == missing);
        CHECK(e.context().status == 404);
        CHECK(e.context().server_code == "NotFound");
        CHECK(std::string(e.what()).find("courier-test-secret") == std::string::npos);
    }
    // Deleting works, and deleting again is not an error.
    const auto topic = create_topic("deleted");
    run([&]() -> asio::awaitable<void> {
        co_await sns->delete_topic(topic);
        co_await sns->delete_topic(topic);
    });
    CHECK(sns->requests_sent() >= 4);
}
