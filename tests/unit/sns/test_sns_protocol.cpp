// Tests for src/sns/protocol.hpp: every request body as a literal, form encoding of tricky
// text (checked against Boost.URL's decoder), refusals before sending, the XML answers of
// each action, garbage and truncated answers, and every error-answer shape.
#include "sns/protocol.hpp"
#include "test_support.hpp"

#include <boost/url/parse_query.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace sns = courier::sns;
using courier_test::error_from;
using namespace std::string_literals;

namespace {

constexpr std::string_view topic = "arn:aws:sns:us-east-1:123456789012:orders";
constexpr std::string_view topic_encoded = "arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders";

// The form body decoded back into (name, value) pairs, by Boost.URL rather than by us.
std::vector<std::pair<std::string, std::string>> decode_form(std::string_view body)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& param : boost::urls::parse_query(body).value())
        out.emplace_back(param.key.decode(), param.value.decode());
    return out;
}

bool only_unreserved_or_escapes(std::string_view encoded)
{
    for (std::size_t i = 0; i < encoded.size(); ++i)
    {
        const char c = encoded[i];
        if (c == '%')
        {
            auto upper_hex = [&](std::size_t k) {
                if (k >= encoded.size())
                    return false;
                const auto d = static_cast<unsigned char>(encoded[k]);
                return std::isxdigit(d) && !std::islower(d);
            };
            if (!upper_hex(i + 1) || !upper_hex(i + 2))
                return false;
            i += 2;
        }
        else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '~' &&
                 c != '=' && c != '&')
            return false;
    }
    return true;
}

} // namespace

TEST_CASE("sns protocol: Publish renders every field, encoding everything but unreserved characters")
{
    const courier::attribute_map attributes{
        {"kind", {"String", "x=y&z"}},
        {"amount", {"Number", "12.50"}},
        {"blob", {"Binary", std::string("\x00\x01\xfe\xff", 4)}},
    };
    sns::publish_request req;
    req.topic_arn = topic;
    req.message = "a b+c&d=e\n\xe2\x98\x83 %~";
    req.subject = "Hi there!";
    req.group_id = "g-1";
    req.deduplication_id = "d.1_~";
    req.attributes = &attributes;
    const auto body = sns::render(req);
    CHECK(body == "Action=Publish&Version=2010-03-31&TopicArn="s + std::string(topic_encoded) +
                      "&Message=a%20b%2Bc%26d%3De%0A%E2%98%83%20%25~"
                      "&Subject=Hi%20there%21&MessageGroupId=g-1&MessageDeduplicationId=d.1_~"
                      "&MessageAttributes.entry.1.Name=amount"
                      "&MessageAttributes.entry.1.Value.DataType=Number"
                      "&MessageAttributes.entry.1.Value.StringValue=12.50"
                      "&MessageAttributes.entry.2.Name=blob"
                      "&MessageAttributes.entry.2.Value.DataType=Binary"
                      "&MessageAttributes.entry.2.Value.BinaryValue=AAH%2B%2Fw%3D%3D"
                      "&MessageAttributes.entry.3.Name=kind"
                      "&MessageAttributes.entry.3.Value.DataType=String"
                      "&MessageAttributes.entry.3.Value.StringValue=x%3Dy%26z");
    const auto fields = decode_form(body);
    REQUIRE(fields.size() == 16);
    CHECK(fields[3] == std::pair("Message"s, std::string(req.message)));
    CHECK(fields[15] == std::pair("MessageAttributes.entry.3.Value.StringValue"s, "x=y&z"s));

    // Without the optional parts, nothing of them is sent.
    sns::publish_request plain;
    plain.topic_arn = topic;
    plain.message = "hello";
    CHECK(sns::render(plain) ==
          "Action=Publish&Version=2010-03-31&TopicArn="s + std::string(topic_encoded) + "&Message=hello");
}

TEST_CASE("sns protocol: every ASCII character and multi-byte UTF-8 survive encoding")
{
    std::string text;
    for (int c = 1; c < 0x80; ++c)
        text += static_cast<char>(c);
    text += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\r\n\t"; // e-acute, euro sign, an emoji, CR LF TAB
    sns::publish_request req;
    req.topic_arn = topic;
    req.message = text;
    const auto body = sns::render(req);
    CHECK(only_unreserved_or_escapes(body));
    CHECK(body.find('+') == std::string::npos);
    CHECK(body.find(' ') == std::string::npos);
    const auto fields = decode_form(body);
    REQUIRE(fields.size() == 4);
    CHECK(fields[3].second == text);
}

TEST_CASE("sns protocol: CreateTopic, Subscribe and DeleteTopic bodies")
{
    const sns::string_map fifo{{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}};
    CHECK(sns::render(sns::create_topic_request{.name = "orders.fifo", .attributes = &fifo}) ==
          "Action=CreateTopic&Version=2010-03-31&Name=orders.fifo"
          "&Attributes.entry.1.key=ContentBasedDeduplication&Attributes.entry.1.value=true"
          "&Attributes.entry.2.key=FifoTopic&Attributes.entry.2.value=true");
    CHECK(sns::render(sns::create_topic_request{.name = "plain"}) ==
          "Action=CreateTopic&Version=2010-03-31&Name=plain");

    const sns::string_map sub{{"RawMessageDelivery", "true"}, {"FilterPolicy", R"({"kind":["a b"]})"}};
    CHECK(sns::render(sns::subscribe_request{.topic_arn = topic,
                                             .protocol = "sqs",
                                             .endpoint = "arn:aws:sqs:us-east-1:123456789012:q",
                                             .attributes = &sub}) ==
          "Action=Subscribe&Version=2010-03-31&TopicArn="s + std::string(topic_encoded) +
              "&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A123456789012%3Aq"
              "&ReturnSubscriptionArn=true"
              "&Attributes.entry.1.key=FilterPolicy"
              "&Attributes.entry.1.value=%7B%22kind%22%3A%5B%22a%20b%22%5D%7D"
              "&Attributes.entry.2.key=RawMessageDelivery&Attributes.entry.2.value=true");

    CHECK(sns::render(sns::delete_topic_request{.topic_arn = topic}) ==
          "Action=DeleteTopic&Version=2010-03-31&TopicArn="s + std::string(topic_encoded));
}

TEST_CASE("sns protocol: missing values and text that is not UTF-8 are refused before sending")
{
    auto refused = [](auto request) {
        const auto e = error_from([&] { sns::render(request); });
        CHECK(e.code() == std::make_error_code(std::errc::invalid_argument));
        return e.detail();
    };
    const courier::attribute_map bad_value{{"kind", {"String", "\xff"}}};
    const courier::attribute_map no_type{{"kind", {"", "x"}}};
    const courier::attribute_map no_name{{"", {"String", "x"}}};
    const courier::attribute_map binary{{"raw", {"Binary", "\xff\xfe"}}};

    CHECK(refused(sns::publish_request{.message = "x"}) == "Publish: TopicArn is required");
    CHECK(refused(sns::publish_request{.topic_arn = topic}) == "Publish: Message is required");
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "a\xff"}) ==
          "Publish: Message is not valid UTF-8 (byte 1)");
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "a\xed\xa0\x80"}) ==
          "Publish: Message is not valid UTF-8 (byte 1)"); // a UTF-16 surrogate
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "x", .subject = "\xc0\xaf"}) ==
          "Publish: Subject is not valid UTF-8 (byte 0)"); // an overlong form
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "x", .attributes = &bad_value}) ==
          "Publish: message attribute \"kind\" is not valid UTF-8 (byte 0)");
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "x", .attributes = &no_type}) ==
          "Publish: message attribute \"kind\" has no data type");
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "x", .attributes = &no_name}) ==
          "Publish: a message attribute has no name");
    courier::attribute_map eleven;
    for (int i = 0; i < 11; ++i)
        eleven["a" + std::to_string(i)] = {"String", "v"};
    CHECK(refused(sns::publish_request{.topic_arn = topic, .message = "x", .attributes = &eleven}) ==
          "Publish: 11 message attributes; at most 10 reach a subscribed SQS queue");
    // Binary attributes carry any bytes.
    CHECK(sns::render(sns::publish_request{.topic_arn = topic, .message = "x", .attributes = &binary})
              .ends_with("BinaryValue=%2F%2F4%3D"));

    CHECK(refused(sns::create_topic_request{}) == "CreateTopic: Name is required");
    CHECK(refused(sns::subscribe_request{.topic_arn = topic, .protocol = "sqs"}) == "Subscribe: Endpoint is required");
    CHECK(refused(sns::delete_topic_request{}) == "DeleteTopic: TopicArn is required");

    const auto e = error_from([&] { sns::render(sns::publish_request{.topic_arn = topic}); });
    CHECK(std::string(e.what()) == "Publish: Message is required [action=Publish queue="s + std::string(topic) + "]");
}

TEST_CASE("sns protocol: the answers of Publish, CreateTopic and Subscribe")
{
    CHECK(sns::parse_publish(R"(<?xml version="1.0" encoding="UTF-8"?>
<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult>
    <MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>
    <SequenceNumber>10000000000000003000</SequenceNumber>
  </PublishResult>
  <ResponseMetadata>
    <RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId>
  </ResponseMetadata>
</PublishResponse>)") == "94f20ce6-13c5-43a0-9a9e-ca52d816e90b");
    CHECK(sns::parse_publish("<PublishResponse><PublishResult><MessageId>\n  id-1\n</MessageId></PublishResult>"
                             "</PublishResponse>") == "id-1");
    CHECK(sns::parse_create_topic("<CreateTopicResponse><CreateTopicResult><TopicArn>arn:aws:sns:us-east-1:"
                                  "123456789012:t</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>r"
                                  "</RequestId></ResponseMetadata></CreateTopicResponse>") ==
          "arn:aws:sns:us-east-1:123456789012:t");
    CHECK(sns::parse_subscribe("<SubscribeResponse><SubscribeResult><SubscriptionArn>arn:aws:sns:us-east-1:"
                               "123456789012:t:2f6e&#45;1</SubscriptionArn></SubscribeResult></SubscribeResponse>") ==
          "arn:aws:sns:us-east-1:123456789012:t:2f6e-1");
}

TEST_CASE("sns protocol: answers that are not the expected XML are bad responses, never crashes")
{
    auto bad = [](std::string_view body) {
        const auto e = error_from([&] { sns::parse_publish(body); });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK(e.context().action == "Publish");
        return e.detail();
    };
    CHECK(bad("") == "SNS Publish answer has no PublishResult element: \"\"");
    CHECK(bad("Service Unavailable\r\n") ==
          "SNS Publish answer has no PublishResult element: \"Service Unavailable??\"");
    CHECK(bad("<PublishResponse>") == "SNS Publish answer: malformed XML: document ends inside an element");
    CHECK(bad("<PublishResponse><PublishResult><MessageId>x</PublishResult></PublishResponse>") ==
          "SNS Publish answer: malformed XML: mismatched end tag");
    CHECK(bad("<!DOCTYPE r [<!ENTITY a 'b'>]><PublishResponse/>") ==
          "SNS Publish answer: malformed XML: DOCTYPE declarations are not accepted");
    CHECK(bad("<PublishResponse><PublishResult/></PublishResponse>") ==
          "SNS Publish answer lacks PublishResult/MessageId");
    CHECK(bad("<PublishResponse><PublishResult><MessageId> "
              "</MessageId></PublishResult></PublishResponse>") == "SNS Publish answer lacks PublishResult/MessageId");
    CHECK(bad("<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>") ==
          "SNS Publish answer has no PublishResult element: "
          "\"<ErrorResponse><Error><Code>NotFound</Code></Err...\"");

    // Every truncation of a real answer, and random documents built from XML's own characters.
    const std::string full = "<PublishResponse xmlns=\"x\"><PublishResult><MessageId>m&amp;1</MessageId>"
                             "</PublishResult><!-- c --><![CDATA[x]]></PublishResponse>";
    for (std::size_t n = 0; n < full.size(); ++n)
        try
        {
            sns::parse_publish(full.substr(0, n));
        }
        catch (const courier::error& e)
        {
            REQUIRE(e.code() == courier::errc::bad_response);
        }
    std::mt19937 random(20240309);
    constexpr std::string_view alphabet = "<>/!?[]-&;#x\"'= aPublishResultMessageId\x00\xff";
    for (int round = 0; round < 3000; ++round)
    {
        std::string doc(random() % 80, ' ');
        for (auto& c : doc)
            c = alphabet[random() % alphabet.size()];
        for (auto* parse : {&sns::parse_publish, &sns::parse_create_topic, &sns::parse_subscribe})
            try
            {
                parse(doc);
            }
            catch (const courier::error& e)
            {
                REQUIRE(e.code() == courier::errc::bad_response);
            }
        const auto error = sns::parse_error_response(400, doc);
        REQUIRE(error.sender_fault);
    }
}

TEST_CASE("sns protocol: error answers are read and classified")
{
    const auto not_found =
        sns::parse_error_response(404, R"(<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <Error>
    <Type>Sender</Type>
    <Code>NotFound</Code>
    <Message>Topic does not exist &amp; never did</Message>
  </Error>
  <RequestId>9b4c2a1e-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>)");
    CHECK(not_found.type == "Sender");
    CHECK(not_found.code == "NotFound");
    CHECK(not_found.message == "Topic does not exist & never did");
    CHECK(not_found.sender_fault);
    CHECK_FALSE(not_found.retryable);
    const auto e = sns::make_error(not_found, "Publish", topic);
    CHECK(e.code() == courier::errc::not_found);
    CHECK(
        std::string(e.what()) ==
        "SNS says the topic does not exist: check its name or URL, the region and the account [action=Publish queue="s +
            std::string(topic) + " status=404 server=NotFound: Topic does not exist & never did]");

    const auto throttled = sns::parse_error_response(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttled</"
                                                          "Code><Message>Rate exceeded</Message>"
                                                          "</Error></ErrorResponse>");
    CHECK(throttled.throttling);
    CHECK(throttled.retryable);
    CHECK(sns::make_error(throttled, "Publish", topic).code() == courier::errc::throttled);
    CHECK(sns::parse_error_response(400, "<ErrorResponse><Error><Code>ThrottlingException</Code></Error>"
                                         "</ErrorResponse>")
              .throttling);
    CHECK(sns::parse_error_response(429, "").throttling);

    const auto internal = sns::parse_error_response(500, "<ErrorResponse><Error><Type>Receiver</"
                                                         "Type><Code>InternalError</Code></Error></ErrorResponse>");
    CHECK(internal.retryable);
    CHECK_FALSE(internal.throttling);
    CHECK_FALSE(internal.sender_fault);
    CHECK(std::string(sns::make_error(internal, "Subscribe", topic).detail()) ==
          "SNS failed the request (transient, retryable)");

    // A proxy's page: classified by status, quoted as a short printable excerpt.
    const auto proxy = sns::parse_error_response(502, "<html><body><h1>502 Bad Gateway</h1><br></body></html>");
    CHECK(proxy.retryable);
    CHECK(proxy.code.empty());
    CHECK(proxy.message == "<html><body><h1>502 Bad Gateway</h1><br></body></html>");
    const auto binary = sns::parse_error_response(400, std::string("\x00\x01<Error>\xff", 10));
    CHECK(binary.message == "?"
                            "?<Error>?"); // split: "??<" would be a trigraph
    CHECK(binary.sender_fault);
    CHECK_FALSE(binary.retryable);
    const auto control = sns::parse_error_response(400, "<ErrorResponse><Error><Code>Bad\x01"
                                                        "Code</Code></Error></ErrorResponse>");
    CHECK(control.code == "Bad?Code");
    const std::string huge =
        "<ErrorResponse><Error><Code>X</Code>" + std::string(70000, ' ') + "</Error></ErrorResponse>";
    const auto big = sns::parse_error_response(400, huge);
    CHECK(big.code.empty());
    CHECK(big.message.size() == 203);
    CHECK(sns::parse_error_response(503, "").message.empty());
}
