// Tests for include/courier/sns.hpp without a server: the envelope translator on a realistic
// notification and on every malformed shape (exact error texts), the typed translator, and
// the configuration errors of the publisher and the media-type producer.
#include <courier/aws/credentials_provider.hpp>
#include <courier/error.hpp>
#include <courier/sns.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/describe/class.hpp>

#include <doctest/doctest.h>

#include <exception>
#include <stdexcept>
#include <string>

using namespace std::string_literals;

namespace {

// The shape of the example in the SNS developer guide ("Amazon SNS message and JSON formats"),
// with our own values, as an SQS queue receives it from a topic without raw delivery. The
// Message is itself JSON, escaped once more, as real publishers' bodies usually are.
constexpr std::string_view realistic_envelope =
    R"({
  "Type" : "Notification",
  "MessageId" : "5f1c8a9e-2b7d-4c61-9a43-0d8e6b2f7c15",
  "TopicArn" : "arn:aws:sns:eu-west-1:210987654321:order-events",
  "Subject" : "order created",
  "Message" : "{\"order\":\"o-17\",\"note\":\"caf\u00e9 \\\"deluxe\\\"\\n2nd line\"}",
  "Timestamp" : "2024-03-09T14:21:07.512Z",
  "SignatureVersion" : "1",
  "Signature" : "c2lnbmF0dXJlIGJ5dGVzIHdvdWxkIGdvIGhlcmU=",
  "SigningCertURL" : "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01234567.pem",
  "UnsubscribeURL" : "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=)"
    R"(arn:aws:sns:eu-west-1:210987654321:order-events:1b2c3d4e",
  "MessageAttributes" : {
    "kind" : {"Type":"String","Value":"order.created"},
    "amount" : {"Type":"Number","Value":"12.50"},
    "blob" : {"Type":"Binary","Value":"AAH+/w=="},
    "tags" : {"Type":"String.Array","Value":"[\"a\",\"b\"]"}
  }
})";

courier::message delivery(std::string body)
{
    courier::message m;
    m.id = "sqs-id-1";
    m.receipt = "receipt-1";
    m.body = std::move(body);
    m.receive_count = 3;
    m.group_id = "g1";
    m.system_attributes = {{"SentTimestamp", "1709994067600"}, {"SenderId", "AIDAEXAMPLE"}};
    m.sent_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1709994067600));
    return m;
}

// The text of the translation error `body` raises.
std::string envelope_error(std::string body)
{
    try
    {
        courier::sns_envelope{}(delivery(std::move(body)));
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::translation_failed);
        return e.what();
    }
    FAIL("expected a translation error");
    return {};
}

struct order
{
    std::string order;
    std::string note;
};
BOOST_DESCRIBE_STRUCT(order, (), (order, note))

} // namespace

TEST_CASE("sns: the envelope gives back the published message and keeps the SQS delivery")
{
    const auto inner = courier::sns_envelope{}(delivery(std::string(realistic_envelope)));
    CHECK(inner.body == "{\"order\":\"o-17\",\"note\":\"caf\xc3\xa9 \\\"deluxe\\\"\\n2nd line\"}");
    const courier::attribute_map expected{
        {"kind", {"String", "order.created"}},
        {"amount", {"Number", "12.50"}},
        {"blob", {"Binary", std::string("\x00\x01\xfe\xff", 4)}},
        {"tags", {"String.Array", R"(["a","b"])"}},
    };
    CHECK(inner.attributes == expected);
    // Acknowledging acts on the SQS message: its identity stays.
    CHECK(inner.id == "sqs-id-1");
    CHECK(inner.receipt == "receipt-1");
    CHECK(inner.receive_count == 3);
    CHECK(inner.group_id == "g1");
    CHECK(inner.sent_at == std::chrono::system_clock::time_point(std::chrono::milliseconds(1709994067600)));
    const std::map<std::string, std::string, std::less<>> system{
        {"SentTimestamp", "1709994067600"},
        {"SenderId", "AIDAEXAMPLE"},
        {"TopicArn", "arn:aws:sns:eu-west-1:210987654321:order-events"},
        {"SnsMessageId", "5f1c8a9e-2b7d-4c61-9a43-0d8e6b2f7c15"},
        {"Timestamp", "2024-03-09T14:21:07.512Z"},
        {"Subject", "order created"},
    };
    CHECK(inner.system_attributes == system);
}

TEST_CASE("sns: optional envelope members may be absent or null")
{
    const auto minimal = courier::sns_envelope{}(delivery(R"({"Type":"Notification","Message":""})"));
    CHECK(minimal.body.empty());
    CHECK(minimal.attributes.empty());
    CHECK(minimal.system_attributes.size() == 2); // SQS's own only

    const auto nulls = courier::sns_envelope{}(delivery(R"({"Type":"Notification","Message":"x",)"
                                                        R"("Subject":null,"MessageAttributes":null,)"
                                                        R"("TopicArn":"t"})"));
    CHECK(nulls.body == "x");
    CHECK(nulls.system_attributes.count("Subject") == 0);
    CHECK(nulls.system_attributes.at("TopicArn") == "t");

    // FIFO topics add a sequence number; SQS FIFO queues have their own, which stays.
    auto fifo = delivery(R"({"Type":"Notification","Message":"x","SequenceNumber":"10000000000000003000"})");
    fifo.system_attributes["SequenceNumber"] = "18880000000000000001";
    const auto unwrapped = courier::sns_envelope{}(fifo);
    CHECK(unwrapped.system_attributes.at("SnsSequenceNumber") == "10000000000000003000");
    CHECK(unwrapped.system_attributes.at("SequenceNumber") == "18880000000000000001");
}

TEST_CASE("sns: a body that is not a notification is a translation error saying what is wrong")
{
    CHECK(envelope_error("") == "SNS envelope: the body is not JSON");
    CHECK(envelope_error("plain text") == "SNS envelope: the body is not JSON");
    CHECK(envelope_error(R"({"Type":"Notification","Message":"x")") == "SNS envelope: the body is not JSON");
    CHECK(envelope_error(R"(["Notification"])") == "SNS envelope: the body is JSON but not an object");
    CHECK(envelope_error(R"("Notification")") == "SNS envelope: the body is JSON but not an object");
    CHECK(envelope_error(R"({"order":"o-17"})") ==
          "SNS envelope: the body has no \"Type\" member: not an SNS notification");
    CHECK(envelope_error(R"({"Type":null,"Message":"x"})") ==
          "SNS envelope: the body has no \"Type\" member: not an SNS notification");
    CHECK(envelope_error(R"({"Type":7,"Message":"x"})") == "SNS envelope: \"Type\" is not a string");
    CHECK(envelope_error(R"({"Type":"notification","Message":"x"})") ==
          "SNS envelope: \"Type\" is \"notification\", not \"Notification\"");
    CHECK(envelope_error("{\"Type\":\"Not\\u0001ification\",\"Message\":\"x\"}") ==
          "SNS envelope: \"Type\" is \"Not?ification\", not \"Notification\"");
    CHECK(envelope_error(R"({"Type":"Notification"})") == "SNS envelope: the Notification has no \"Message\" member");
    CHECK(envelope_error(R"({"Type":"Notification","Message":null})") ==
          "SNS envelope: the Notification has no \"Message\" member");
    CHECK(envelope_error(R"({"Type":"Notification","Message":{"order":"o-17"}})") ==
          "SNS envelope: \"Message\" is not a string");
    CHECK(envelope_error(R"({"Type":"Notification","Message":"x","TopicArn":42})") ==
          "SNS envelope: \"TopicArn\" is not a string");
    CHECK(envelope_error(R"({"Type":"Notification","Message":"x","Timestamp":true})") ==
          "SNS envelope: \"Timestamp\" is not a string");
    CHECK(envelope_error(R"({"Type":"Notification","Message":"x","MessageAttributes":[]})") ==
          "SNS envelope: \"MessageAttributes\" is not an object");
    // With one message attribute given as JSON.
    auto attribute_error = [](std::string_view attribute) {
        return envelope_error(R"({"Type":"Notification","Message":"x","MessageAttributes":)" + std::string(attribute) +
                              "}");
    };
    CHECK(attribute_error(R"({"a":"b"})") == "SNS envelope: message attribute \"a\" is not an object");
    CHECK(attribute_error(R"({"a":{"Value":"v"}})") == "SNS envelope: message attribute \"a\" has no \"Type\"");
    CHECK(attribute_error(R"({"a":{"Type":"","Value":"v"}})") ==
          "SNS envelope: message attribute \"a\" has no \"Type\"");
    CHECK(attribute_error(R"({"a":{"Type":"String"}})") == "SNS envelope: message attribute \"a\" has no \"Value\"");
    CHECK(attribute_error(R"({"a":{"Type":"String","Value":3}})") ==
          "SNS envelope: message attribute \"a\": \"Value\" is not a string");
    CHECK(attribute_error(R"({"a":{"Type":["String"],"Value":"v"}})") ==
          "SNS envelope: message attribute \"a\": \"Type\" is not a string");
    CHECK(attribute_error(R"({"b":{"Type":"Binary","Value":"not base64!"}})") ==
          "SNS envelope: message attribute \"b\" (Binary) is not valid base64");
}

TEST_CASE("sns: subscription confirmations are named, so an error handler can acknowledge them")
{
    const std::string confirmation = R"({
      "Type" : "SubscriptionConfirmation",
      "MessageId" : "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
      "Token" : "2336412f37fb687f5d51e6e2425f004aed",
      "TopicArn" : "arn:aws:sns:eu-west-1:210987654321:order-events",
      "Message" : "You have chosen to subscribe to the topic ...",
      "SubscribeURL" : "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336",
      "Timestamp" : "2024-03-09T14:20:00.000Z"
    })";
    CHECK(envelope_error(confirmation) ==
          "SNS envelope: the body is an SNS SubscriptionConfirmation, not a Notification: it carries "
          "no message (acknowledge it, or confirm the subscription at its SubscribeURL)");
    CHECK(envelope_error(R"({"Type":"UnsubscribeConfirmation","Message":"x"})") ==
          "SNS envelope: the body is an SNS UnsubscribeConfirmation, not a Notification: it carries "
          "no message (acknowledge it, or confirm the subscription at its SubscribeURL)");
}

TEST_CASE("sns: every truncation of a valid envelope fails cleanly or unwraps")
{
    const std::string full(realistic_envelope);
    for (std::size_t n = 0; n < full.size(); ++n)
    {
        try
        {
            courier::sns_envelope{}(delivery(full.substr(0, n)));
        }
        catch (const courier::error& e)
        {
            REQUIRE(e.code() == courier::errc::translation_failed);
        }
    }
}

TEST_CASE("sns: sns_json unwraps, then decodes the message as JSON")
{
    const auto o = courier::sns_json<order>{}(delivery(std::string(realistic_envelope)));
    CHECK(o.order == "o-17");
    CHECK(o.note == "caf\xc3\xa9 \"deluxe\"\n2nd line");

    try
    {
        courier::sns_json<order>{}(delivery(R"({"Type":"Notification","Message":"{\"order\":5}"})"));
        FAIL("expected a translation error");
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::translation_failed);
        CHECK(std::string(e.what()) == "$.order: expected a string, got an integer");
    }
    CHECK(envelope_error("{}").starts_with("SNS envelope:"));
}

TEST_CASE("sns: publisher and producer refuse bad configuration")
{
    boost::asio::io_context io;
    courier::aws::client_options options{.endpoint = "http://127.0.0.1:9", .region = "us-east-1"};
    options.credentials = courier::aws::static_credentials({.access_key_id = "AKIDTEST", .secret_access_key = "s"});
    auto client = std::make_shared<courier::sns_client>(io.get_executor(), options);
    CHECK(client->region() == "us-east-1");
    CHECK(client->endpoint() == "http://127.0.0.1:9");

    CHECK_THROWS_AS(courier::make_sns_publisher(nullptr, "arn"), courier::error);
    CHECK_THROWS_AS(courier::make_sns_publisher(client, ""), courier::error);

    // A delay cannot be honoured by SNS: refused before anything is sent.
    auto publisher = courier::make_sns_publisher(client, "arn:aws:sns:us-east-1:000000000000:t");
    courier::outgoing_message delayed{.body = "x", .delay = std::chrono::seconds(5)};
    std::exception_ptr failure;
    boost::asio::co_spawn(io, publisher->publish(delayed), [&](std::exception_ptr e, std::string) { failure = e; });
    io.run();
    REQUIRE(failure);
    try
    {
        std::rethrow_exception(failure);
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::bad_configuration);
        CHECK(std::string(e.what()) == "SNS has no delivery delay; publish without one "
                                       "[action=Publish queue=arn:aws:sns:us-east-1:000000000000:t]");
    }
    CHECK(client->requests_sent() == 0);

    // The media-type producer over SNS topics: a media type without a topic is refused before
    // anything is sent.
    const courier::media_type_producer routed(client, {{"application/vnd.a", "arn:a"}, {"application/vnd.b", "arn:b"}});
    CHECK(routed.has_destination("application/vnd.a"));
    CHECK_FALSE(routed.has_destination("application/vnd.c"));
    try
    {
        (void)routed.produce("application/vnd.c", "{}");
        FAIL("expected a configuration error");
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::bad_configuration);
        CHECK(std::string(e.what()) ==
              "event_bus: no destination for event 'application/vnd.c' (destinations: application/vnd.a, "
              "application/vnd.b)");
    }
    const courier::media_type_producer with_default(client, {{"application/vnd.a", "arn:a"}}, "arn:other");
    CHECK(with_default.has_destination("application/vnd.c"));
    CHECK_THROWS_AS(courier::media_type_producer(nullptr, {}), courier::error);
    CHECK_THROWS_AS(courier::media_type_producer(client, {{"application/vnd.a", ""}}), courier::error);
}
