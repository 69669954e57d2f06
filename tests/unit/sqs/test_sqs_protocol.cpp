// Tests for src/sqs/protocol.hpp: every request body as a literal, the JSON escaper byte by
// byte against a naive reference, UTF-8 rejection, base64 and MD5 against published vectors,
// realistic and broken responses of every action, and every error-body shape.
#include "aws/binary_attributes.hpp"
#include "aws/error_codes.hpp"
#include "aws/utf8.hpp"
#include "sqs/protocol.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace sqs = courier::sqs;
using courier_test::contains;
using courier_test::error_from;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

constexpr std::string_view queue = "https://sqs.us-east-1.amazonaws.com/123456789012/orders";

bool printable(std::string_view text)
{
    for (unsigned char c : text)
        if (c < 0x20 || c >= 0x7f)
            return false;
    return true;
}

// The obvious escaper, one byte at a time: what the fast one must agree with.
std::string reference_escape(std::string_view text)
{
    std::string out = "\"";
    for (unsigned char c : text)
    {
        switch (c)
        {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20)
            {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
                out += buffer;
            }
            else
            {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

std::string escape(std::string_view text)
{
    std::string out;
    REQUIRE(sqs::detail::append_json_string(out, text) == std::string_view::npos);
    return out;
}

// Deterministic pseudo-random numbers for the property tests.
struct xorshift
{
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    std::uint64_t next()
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
};

} // namespace

// ---------------------------------------------------------------------------------------------
TEST_SUITE("sqs request rendering")
{
    TEST_CASE("targets name the action")
    {
        CHECK(sqs::receive_message_request::target == "AmazonSQS.ReceiveMessage");
        CHECK(sqs::delete_message_batch_request::target == "AmazonSQS.DeleteMessageBatch");
        CHECK(sqs::change_message_visibility_batch_request::target == "AmazonSQS.ChangeMessageVisibilityBatch");
        CHECK(sqs::send_message_batch_request::target == "AmazonSQS.SendMessageBatch");
        CHECK(sqs::get_queue_attributes_request::action == "GetQueueAttributes");
        CHECK(sqs::purge_queue_request::target == "AmazonSQS.PurgeQueue");
        CHECK(sqs::content_type == "application/x-amz-json-1.0");
    }

    TEST_CASE("ReceiveMessage")
    {
        CHECK(sqs::render(sqs::receive_message_request{.queue_url = queue}) ==
              R"({"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/orders",)"
              R"("MaxNumberOfMessages":10,"WaitTimeSeconds":20,"MessageAttributeNames":["All"],)"
              R"("MessageSystemAttributeNames":["All"]})");

        const std::string_view names[] = {"trace", "tenant.*"};
        const std::string_view system[] = {"ApproximateReceiveCount", "SentTimestamp"};
        CHECK(sqs::render(sqs::receive_message_request{.queue_url = "q",
                                                       .max_messages = 1,
                                                       .wait_time_seconds = 0,
                                                       .visibility_timeout = 45,
                                                       .message_attribute_names = names,
                                                       .system_attribute_names = system,
                                                       .send_legacy_attribute_names = true,
                                                       .receive_request_attempt_id = "attempt-1"}) ==
              R"({"QueueUrl":"q","MaxNumberOfMessages":1,"WaitTimeSeconds":0,)"
              R"("VisibilityTimeout":45,"MessageAttributeNames":["trace","tenant.*"],)"
              R"("MessageSystemAttributeNames":["ApproximateReceiveCount","SentTimestamp"],)"
              R"("AttributeNames":["ApproximateReceiveCount","SentTimestamp"],)"
              R"("ReceiveRequestAttemptId":"attempt-1"})");

        CHECK(sqs::render(sqs::receive_message_request{
                  .queue_url = "q", .message_attribute_names = {}, .system_attribute_names = {}}) ==
              R"({"QueueUrl":"q","MaxNumberOfMessages":10,"WaitTimeSeconds":20})");
    }

    TEST_CASE("ReceiveMessage arguments out of range")
    {
        const auto fails = [](sqs::receive_message_request r, std::string_view field) {
            const courier::error e = error_from([&] { sqs::render(r); });
            CHECK(e.code() == std::errc::invalid_argument);
            CHECK(e.context().action == "ReceiveMessage");
            CHECK(contains(e.detail(), field));
        };
        fails({.queue_url = ""}, "QueueUrl must not be empty");
        fails({.queue_url = "q", .max_messages = 0}, "MaxNumberOfMessages must be 1..10, not 0");
        fails({.queue_url = "q", .max_messages = 11}, "MaxNumberOfMessages must be 1..10");
        fails({.queue_url = "q", .wait_time_seconds = 21}, "WaitTimeSeconds must be 0..20");
        fails({.queue_url = "q", .wait_time_seconds = -1}, "WaitTimeSeconds");
        fails({.queue_url = "q", .visibility_timeout = 43201}, "VisibilityTimeout must be 0..43200");
        fails({.queue_url = "q", .visibility_timeout = -1}, "VisibilityTimeout");
    }

    TEST_CASE("DeleteMessage and DeleteMessageBatch")
    {
        CHECK(sqs::render(sqs::delete_message_request{.queue_url = "q", .receipt_handle = "r+/="}) ==
              R"({"QueueUrl":"q","ReceiptHandle":"r+/="})");

        const sqs::delete_message_entry entries[] = {{"0", "AQEB/aa=="}, {"m-1_x", "AQEB+bb"}};
        CHECK(sqs::render(sqs::delete_message_batch_request{.queue_url = "q", .entries = entries}) ==
              R"({"QueueUrl":"q","Entries":[{"Id":"0","ReceiptHandle":"AQEB/aa=="},)"
              R"({"Id":"m-1_x","ReceiptHandle":"AQEB+bb"}]})");
    }

    TEST_CASE("batch entries are checked")
    {
        const auto fails = [](std::span<const sqs::delete_message_entry> entries, std::string_view expected) {
            const courier::error e = error_from(
                [&] { sqs::render(sqs::delete_message_batch_request{.queue_url = "q", .entries = entries}); });
            CHECK(e.code() == std::errc::invalid_argument);
            CHECK(e.context().action == "DeleteMessageBatch");
            CHECK(e.context().queue == "q");
            CHECK(e.detail() == expected);
        };
        fails({}, "Entries must hold 1..10 entries, not 0");
        const std::vector<sqs::delete_message_entry> eleven(11, {"a", "r"});
        fails(eleven, "Entries must hold 1..10 entries, not 11");
        const sqs::delete_message_entry twice[] = {{"a", "r"}, {"b", "r"}, {"a", "r"}};
        fails(twice, "Entries[2].Id \"a\" appears twice in the batch");
        const sqs::delete_message_entry bad_id[] = {{"a", "r"}, {"no spaces", "r"}};
        fails(bad_id, "Entries[1].Id must be 1..80 characters of [A-Za-z0-9_-]");
        const std::string long_id(81, 'x');
        const sqs::delete_message_entry too_long[] = {{long_id, "r"}};
        fails(too_long, "Entries[0].Id must be 1..80 characters of [A-Za-z0-9_-]");
        const sqs::delete_message_entry empty_id[] = {{"", "r"}};
        fails(empty_id, "Entries[0].Id must be 1..80 characters of [A-Za-z0-9_-]");
        const sqs::delete_message_entry no_receipt[] = {{"a", "r"}, {"b", ""}};
        fails(no_receipt, "Entries[1].ReceiptHandle must not be empty");

        const std::string max_id(80, 'x');
        const sqs::delete_message_entry longest[] = {{max_id, "r"}};
        CHECK_NOTHROW(sqs::render(sqs::delete_message_batch_request{.queue_url = "q", .entries = longest}));
    }

    TEST_CASE("ChangeMessageVisibility and its batch")
    {
        CHECK(sqs::render(sqs::change_message_visibility_request{
                  .queue_url = "q", .receipt_handle = "r", .visibility_timeout = 0}) ==
              R"({"QueueUrl":"q","ReceiptHandle":"r","VisibilityTimeout":0})");

        const sqs::change_message_visibility_entry entries[] = {{"a", "r1", 30}, {"b", "r2", 43200}};
        CHECK(sqs::render(sqs::change_message_visibility_batch_request{.queue_url = "q", .entries = entries}) ==
              R"({"QueueUrl":"q","Entries":[)"
              R"({"Id":"a","ReceiptHandle":"r1","VisibilityTimeout":30},)"
              R"({"Id":"b","ReceiptHandle":"r2","VisibilityTimeout":43200}]})");

        const sqs::change_message_visibility_entry too_long[] = {{"a", "r1", 43201}};
        const courier::error e = error_from(
            [&] { sqs::render(sqs::change_message_visibility_batch_request{.queue_url = "q", .entries = too_long}); });
        CHECK(e.detail() == "Entries[0].VisibilityTimeout must be 0..43200, not 43201");
    }

    TEST_CASE("SendMessage with attributes, delay and FIFO ids")
    {
        const courier::attribute_map attributes = {
            {"blob", {"Binary", "\x00\x01\xfe\xff"s}},
            {"image", {"Binary.png", "PNG"}},
            {"priority", {"Number", "7"}},
            {"trace", {"String", "abc \"1\""}},
        };
        CHECK(sqs::render(sqs::send_message_request{.queue_url = "q",
                                                    .body = "hello",
                                                    .delay_seconds = 5,
                                                    .attributes = &attributes,
                                                    .group_id = "g1",
                                                    .deduplication_id = "d1"}) ==
              R"({"QueueUrl":"q","MessageBody":"hello","DelaySeconds":5,"MessageAttributes":{)"
              R"("blob":{"DataType":"Binary","BinaryValue":"AAH+/w=="},)"
              R"("image":{"DataType":"Binary.png","BinaryValue":"UE5H"},)"
              R"("priority":{"DataType":"Number","StringValue":"7"},)"
              R"("trace":{"DataType":"String","StringValue":"abc \"1\""}},)"
              R"("MessageGroupId":"g1","MessageDeduplicationId":"d1"})");

        CHECK(sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x"}) ==
              R"({"QueueUrl":"q","MessageBody":"x"})");
        const courier::attribute_map none;
        CHECK(sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &none}) ==
              R"({"QueueUrl":"q","MessageBody":"x"})");

        CHECK(error_from([] {
                  sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .delay_seconds = 901});
              }).detail() == "DelaySeconds must be 0..900, not 901");
        CHECK(error_from([] { sqs::render(sqs::send_message_request{.queue_url = "q", .body = ""}); }).detail() ==
              "MessageBody must not be empty");
        const courier::attribute_map untyped = {{"a", {"", "v"}}};
        CHECK(error_from([&] {
                  sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &untyped});
              }).detail() == "MessageAttributes DataType must not be empty");
        courier::attribute_map eleven;
        for (int i = 0; i < 11; ++i)
            eleven["a" + std::to_string(i)] = {"String", "v"};
        CHECK(error_from([&] {
                  sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &eleven});
              }).detail() == "MessageAttributes has 11 attributes; SQS takes at most 10 per message");
        eleven.erase("a0");
        CHECK(sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &eleven})
                  .find(R"("a9":{"DataType":"String","StringValue":"v"})") != std::string::npos);
    }

    TEST_CASE("SendMessageBatch")
    {
        const courier::attribute_map attributes = {{"k", {"String", "v"}}};
        const sqs::send_message_entry entries[] = {
            {.id = "0", .body = "first"},
            {.id = "1",
             .body = "second",
             .delay_seconds = 0,
             .attributes = &attributes,
             .group_id = "g",
             .deduplication_id = "d"},
        };
        CHECK(sqs::render(sqs::send_message_batch_request{.queue_url = "q", .entries = entries}) ==
              R"({"QueueUrl":"q","Entries":[{"Id":"0","MessageBody":"first"},)"
              R"({"Id":"1","MessageBody":"second","DelaySeconds":0,)"
              R"("MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}},)"
              R"("MessageGroupId":"g","MessageDeduplicationId":"d"}]})");

        const sqs::send_message_entry bad[] = {{.id = "0", .body = "ok"}, {.id = "1", .body = "\xff"}};
        const courier::error e =
            error_from([&] { sqs::render(sqs::send_message_batch_request{.queue_url = "q", .entries = bad}); });
        CHECK(e.detail() == "Entries[1].MessageBody is not valid UTF-8 (byte 0xff at offset 0)");
        CHECK(e.context().action == "SendMessageBatch");
    }

    TEST_CASE("queue management")
    {
        CHECK(sqs::render(sqs::get_queue_url_request{.queue_name = "orders"}) == R"({"QueueName":"orders"})");
        CHECK(sqs::render(sqs::get_queue_url_request{.queue_name = "orders", .owner_account_id = "123456789012"}) ==
              R"({"QueueName":"orders","QueueOwnerAWSAccountId":"123456789012"})");

        const std::string redrive = R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq.fifo",)"
                                    R"("maxReceiveCount":"5"})";
        const sqs::queue_attribute attributes[] = {
            {"FifoQueue", "true"}, {"VisibilityTimeout", "30"}, {"RedrivePolicy", redrive}};
        CHECK(sqs::render(sqs::create_queue_request{.queue_name = "orders.fifo", .attributes = attributes}) ==
              R"({"QueueName":"orders.fifo","Attributes":{"FifoQueue":"true",)"
              R"("VisibilityTimeout":"30","RedrivePolicy":"{\"deadLetterTargetArn\":)"
              R"(\"arn:aws:sqs:us-east-1:123456789012:dlq.fifo\",\"maxReceiveCount\":\"5\"}"}})");
        CHECK(sqs::render(sqs::create_queue_request{.queue_name = "plain"}) == R"({"QueueName":"plain"})");

        CHECK(sqs::render(sqs::get_queue_attributes_request{.queue_url = "q"}) ==
              R"({"QueueUrl":"q","AttributeNames":["All"]})");
        const std::string_view names[] = {"ApproximateNumberOfMessages", "QueueArn"};
        CHECK(sqs::render(sqs::get_queue_attributes_request{.queue_url = "q", .attribute_names = names}) ==
              R"({"QueueUrl":"q","AttributeNames":["ApproximateNumberOfMessages","QueueArn"]})");
        CHECK(sqs::render(sqs::delete_queue_request{.queue_url = "q"}) == R"({"QueueUrl":"q"})");
        CHECK(sqs::render(sqs::purge_queue_request{.queue_url = "q"}) == R"({"QueueUrl":"q"})");
        CHECK(error_from([] { sqs::render(sqs::get_queue_url_request{}); }).detail() == "QueueName must not be empty");
    }

    TEST_CASE("render reuses the output buffer")
    {
        std::string out = "previous content that must go";
        sqs::render(sqs::purge_queue_request{.queue_url = "q"}, out);
        CHECK(out == R"({"QueueUrl":"q"})");
    }
}

// ---------------------------------------------------------------------------------------------
TEST_SUITE("sqs json escaping")
{
    TEST_CASE("quotes, backslashes and control characters")
    {
        CHECK(escape("") == R"("")");
        CHECK(escape(R"(say "hi" \ bye)") == R"("say \"hi\" \\ bye")");
        CHECK(escape("a\nb\tc\rd\be\ff") == R"("a\nb\tc\rd\be\ff")");
        CHECK(escape("\x01\x1f\x7f/"sv) == R"("\u0001\u001f)"
                                           "\x7f"
                                           R"(/")");
        CHECK(escape("nul\0byte"sv) == R"("nul\u0000byte")");
        CHECK(escape(R"(C:\path\"quoted"\)") == R"("C:\\path\\\"quoted\"\\")");
    }

    TEST_CASE("every ASCII byte at every position of short and long strings")
    {
        // Covers the eight-bytes-at-a-time path, its tail, and runs that straddle both.
        for (std::size_t length = 1; length <= 35; ++length)
            for (std::size_t at = 0; at < length; ++at)
                for (int c = 0; c < 0x80; ++c)
                {
                    std::string text(length, 'a');
                    text[at] = static_cast<char>(c);
                    if (c % 7 == 0 && at + 1 < length)
                        text[length - 1] = '"';
                    REQUIRE(escape(text) == reference_escape(text));
                }
    }

    TEST_CASE("random mixes agree with the reference")
    {
        xorshift random;
        const std::string_view pieces[] = {
            "a", "b", "\"",   "\\",       "\n",       "\x01",         "\x1f",
            " ", "~", "\x7f", "abcdefgh", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e"};
        for (int round = 0; round < 5000; ++round)
        {
            std::string text;
            for (std::size_t n = random.next() % 40; n > 0; --n)
                text += pieces[random.next() % std::size(pieces)];
            REQUIRE(escape(text) == reference_escape(text));
        }
    }

    TEST_CASE("unicode passes through unchanged")
    {
        const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xe2\x80\xa8 \xef\xbf\xbd";
        CHECK(escape(text) == "\"" + text + "\"");
        CHECK(escape("\xf4\x8f\xbf\xbf") == "\"\xf4\x8f\xbf\xbf\""); // U+10FFFF
    }

    TEST_CASE("invalid UTF-8 is rejected with its offset")
    {
        struct sample
        {
            std::string text;
            std::size_t offset;
        };
        const sample samples[] = {
            {"\xff", 0},
            {"ok\x80", 2},                   // continuation byte without a lead
            {"caf\xc3", 3},                  // truncated sequence
            {"ab\xc3(", 2},                  // lead byte followed by ASCII
            {"\xc0\xaf", 0},                 // overlong '/'
            {"x\xe0\x80\xaf", 1},            // overlong three-byte form
            {"\xed\xa0\x80", 0},             // UTF-16 surrogate U+D800
            {"12345678\xf4\x90\x80\x80", 8}, // past U+10FFFF
            {"\xf8\x88\x80\x80\x80", 0},     // five-byte form
            {"\xe2\x82\xac\xe2\x82", 3},     // valid euro sign, then a truncated one
        };
        for (const sample& s : samples)
        {
            CAPTURE(s.text);
            CHECK(courier::aws::first_invalid_utf8(s.text) == s.offset);
            const courier::error e =
                error_from([&] { sqs::render(sqs::send_message_request{.queue_url = "q", .body = s.text}); });
            CHECK(e.code() == std::errc::invalid_argument);
            CHECK(e.context().action == "SendMessage");
            CHECK(contains(e.detail(), "MessageBody is not valid UTF-8"));
            CHECK(contains(e.detail(), "at offset " + std::to_string(s.offset) + ")"));
        }
        CHECK(courier::aws::first_invalid_utf8("plain ascii and \xc3\xa9") == std::string::npos);
    }

    TEST_CASE("invalid UTF-8 anywhere in a request names the field")
    {
        const courier::attribute_map bad_value = {{"k", {"String", "\xc3"}}};
        CHECK(error_from([&] {
                  sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &bad_value});
              }).detail() == "StringValue is not valid UTF-8 (byte 0xc3 at offset 0)");
        const courier::attribute_map bad_name = {{"k\xff", {"String", "v"}}};
        CHECK(error_from([&] {
                  sqs::render(sqs::send_message_request{.queue_url = "q", .body = "x", .attributes = &bad_name});
              }).detail() == "MessageAttributes name is not valid UTF-8 (byte 0xff at offset 1)");
        CHECK(error_from([] {
                  sqs::render(sqs::delete_message_request{.queue_url = "q", .receipt_handle = "\x80"});
              }).detail() == "ReceiptHandle is not valid UTF-8 (byte 0x80 at offset 0)");
    }

    TEST_CASE("the validator agrees with simdjson's on random bytes")
    {
        // simdjson's validate_utf8 is the oracle for our one-pass validating escaper.
        xorshift random;
        const unsigned char bytes[] = {'a',  0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
                                       0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
        for (int round = 0; round < 20000; ++round)
        {
            std::string text(1 + random.next() % 20, 'a');
            for (char& c : text)
                c = static_cast<char>(bytes[random.next() % sizeof bytes]);
            bool accepted = true;
            try
            {
                sqs::render(sqs::send_message_request{.queue_url = "q", .body = text});
            }
            catch (const courier::error&)
            {
                accepted = false;
            }
            const bool valid = simdjson::validate_utf8(text.data(), text.size());
            REQUIRE(accepted == valid);
            REQUIRE(valid == (courier::aws::first_invalid_utf8(text) == std::string::npos));
        }
    }
}

// ---------------------------------------------------------------------------------------------
TEST_SUITE("sqs base64 and md5")
{
    TEST_CASE("base64 vectors (RFC 4648) and round trips")
    {
        const std::pair<std::string, std::string> vectors[] = {
            {"", ""},
            {"f", "Zg=="},
            {"fo", "Zm8="},
            {"foo", "Zm9v"},
            {"foob", "Zm9vYg=="},
            {"fooba", "Zm9vYmE="},
            {"foobar", "Zm9vYmFy"},
        };
        for (const auto& [plain, encoded] : vectors)
        {
            std::string out;
            courier::aws::append_base64(out, plain);
            CHECK(out == encoded);
            CHECK(courier::aws::decode_base64(encoded) == plain);
        }
        CHECK(courier::aws::decode_base64("Zg") == "f"); // padding is optional
        CHECK(courier::aws::decode_base64("Zm8") == "fo");
        for (std::string_view bad : {"Zm9v!"sv, "Z"sv, "Zm9=v"sv, "===="sv, "Zg=a"sv, "Zm 9v"sv, "Zg==="sv})
        {
            CAPTURE(bad);
            CHECK_FALSE(courier::aws::decode_base64(bad).has_value());
        }
        std::string all;
        for (int c = 0; c < 256; ++c)
            all += static_cast<char>(c);
        std::string encoded;
        courier::aws::append_base64(encoded, all);
        CHECK(courier::aws::decode_base64(encoded) == all);
    }

    TEST_CASE("body MD5")
    {
        CHECK(sqs::md5_of_body("") == "d41d8cd98f00b204e9800998ecf8427e");
        CHECK(sqs::md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592");
    }

    TEST_CASE("attribute MD5 matches the published vectors")
    {
        // Vectors of the npm package aws-md5-of-message-attributes.
        const courier::attribute_map string_only = {{"attribName1", {"String", "attribValue 1"}}};
        CHECK(sqs::md5_of_attributes(string_only) == "19e27d4e946b072f3f58da80d94fd778");
        const courier::attribute_map custom_number = {
            {"customNumberTypeAttrib", {"Number.float", "4563442423554324324264524243.32543234"}}};
        CHECK(sqs::md5_of_attributes(custom_number) == "9fe1b90bbd9965bdf77bac517c7d2495");
        const courier::attribute_map binary = {{"binaryAttribute", {"Binary", "Hello binary world!"}}};
        CHECK(sqs::md5_of_attributes(binary) == "31a92b15d92f8db860eda32aceb656c3");
        courier::attribute_map all = string_only;
        all.insert(custom_number.begin(), custom_number.end());
        all.insert(binary.begin(), binary.end());
        CHECK(sqs::md5_of_attributes(all) == "c932db14a896c663f83c260297d594ff");
    }
}

// ---------------------------------------------------------------------------------------------
namespace {

// The shape of the API reference's ReceiveMessage example, with attributes of every type,
// FIFO system attributes and an escaped, non-ASCII body. MD5s computed independently.
constexpr std::string_view receive_response = R"json({
  "Messages": [
    {
      "Attributes": {
        "SenderId": "AIDAEXAMPLESENDER1234",
        "ApproximateFirstReceiveTimestamp": "1677112433437",
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "1677112427387",
        "MessageGroupId": "customer-17",
        "MessageDeduplicationId": "d-1",
        "SequenceNumber": "18876113446468612608"
      },
      "Body": "{\"order\":42,\"note\":\"caf\u00e9 \u201cquoted\u201d\"}",
      "MD5OfBody": "a6d3d03398243eae34e8a498f0b30143",
      "MD5OfMessageAttributes": "2fdbe2f59acc25c7195279f497f0fa83",
      "MessageAttributes": {
        "trace": {"DataType": "String", "StringValue": "abc-123",
                  "StringListValues": [], "BinaryListValues": []},
        "priority": {"DataType": "Number", "StringValue": "7"},
        "blob": {"DataType": "Binary", "BinaryValue": "AAH+/w=="}
      },
      "MessageId": "219f8380-5770-4cc2-8c3e-5c715e145f5e",
      "ReceiptHandle": "AQEBexampleReceiptHandle+with/slashes==",
      "SomeFutureField": {"ignored": [1, 2, 3]}
    },
    {
      "Body": "plain",
      "MD5OfBody": "AC7938D40CFC2307E2BF325D28E7884E",
      "MessageId": "m-2",
      "ReceiptHandle": "r-2"
    }
  ]
})json";

std::string one_message(std::string_view fields)
{
    return R"({"Messages":[{"MessageId":"id-1","ReceiptHandle":"rh-1",)" + std::string(fields) + "}]}";
}

} // namespace

TEST_SUITE("sqs response parsing")
{
    TEST_CASE("ReceiveMessage: a realistic response")
    {
        sqs::response_parser parser;
        const sqs::receive_result result = parser.parse_receive_message(receive_response);
        CHECK(result.rejected.empty());
        REQUIRE(result.messages.size() == 2);

        const courier::message& m = result.messages[0];
        CHECK(m.id == "219f8380-5770-4cc2-8c3e-5c715e145f5e");
        CHECK(m.receipt == "AQEBexampleReceiptHandle+with/slashes==");
        CHECK(m.body == "{\"order\":42,\"note\":\"caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d\"}");
        CHECK(m.receive_count == 3);
        CHECK(m.group_id == "customer-17");
        CHECK(m.sent_at.time_since_epoch() == std::chrono::milliseconds(1677112427387));
        CHECK(m.system_attributes.size() == 7);
        CHECK(m.system_attributes.at("SequenceNumber") == "18876113446468612608");
        CHECK(m.system_attributes.at("ApproximateReceiveCount") == "3");
        CHECK(m.system_attributes.at("SenderId") == "AIDAEXAMPLESENDER1234");
        const courier::attribute_map expected = {
            {"blob", {"Binary", "\x00\x01\xfe\xff"s}},
            {"priority", {"Number", "7"}},
            {"trace", {"String", "abc-123"}},
        };
        CHECK(m.attributes == expected);

        const courier::message& plain = result.messages[1];
        CHECK(plain.id == "m-2");
        CHECK(plain.body == "plain");
        CHECK(plain.receive_count == 1); // not requested: the default
        CHECK(plain.group_id.empty());
        CHECK(plain.sent_at == std::chrono::system_clock::time_point{});
        CHECK(plain.attributes.empty());

        // The parser is reusable; a second parse gives the same result.
        CHECK(parser.parse_receive_message(receive_response).messages.size() == 2);
    }

    TEST_CASE("ReceiveMessage: empty receives")
    {
        sqs::response_parser parser;
        for (std::string_view body : {"{}"sv, R"({"Messages":[]})"sv, R"({"Messages":null})"sv})
        {
            const auto result = parser.parse_receive_message(body);
            CHECK(result.messages.empty());
            CHECK(result.rejected.empty());
        }
    }

    TEST_CASE("ReceiveMessage: an MD5 mismatch rejects that message only")
    {
        std::string body(receive_response);
        body.replace(body.find("a6d3d033"), 8, "00000000");
        sqs::response_parser parser;
        const auto result = parser.parse_receive_message(body);
        REQUIRE(result.messages.size() == 1);
        CHECK(result.messages[0].id == "m-2");
        REQUIRE(result.rejected.size() == 1);
        CHECK(result.rejected[0].id == "219f8380-5770-4cc2-8c3e-5c715e145f5e");
        CHECK(result.rejected[0].receipt == "AQEBexampleReceiptHandle+with/slashes==");
        CHECK(result.rejected[0].reason == "MD5OfBody 0000000098243eae34e8a498f0b30143 does not match the body "
                                           "(a6d3d03398243eae34e8a498f0b30143)");

        sqs::response_parser lenient({.verify_md5 = false});
        CHECK(lenient.parse_receive_message(body).messages.size() == 2);
    }

    TEST_CASE("ReceiveMessage: an attribute MD5 mismatch rejects that message")
    {
        std::string body(receive_response);
        body.replace(body.find("\"abc-123\""), 9, "\"abc-124\"");
        sqs::response_parser parser;
        const auto result = parser.parse_receive_message(body);
        CHECK(result.messages.size() == 1);
        REQUIRE(result.rejected.size() == 1);
        CHECK(contains(result.rejected[0].reason, "MD5OfMessageAttributes"));
        CHECK(result.rejected[0].receipt == "AQEBexampleReceiptHandle+with/slashes==");
    }

    TEST_CASE("ReceiveMessage: malformed entries are rejected one by one")
    {
        struct sample
        {
            std::string body;
            std::string reason;
            std::string receipt;
        };
        const sample samples[] = {
            {R"({"Messages":[5]})", "the entry is not a JSON object", ""},
            {R"({"Messages":[{"MessageId":"a","Body":"x"}]})", "ReceiptHandle is missing or empty", ""},
            {R"({"Messages":[{"ReceiptHandle":"r","Body":"x"}]})", "MessageId is missing or empty", "r"},
            {one_message(R"("Body":17)"), "Body is not a string", "rh-1"},
            {one_message(R"("Other":1)"), "Body is missing", "rh-1"},
            {one_message(R"("Body":"x","MD5OfBody":["no"])"), "MD5OfBody is not a string", "rh-1"},
            {one_message(R"("Body":"x","Attributes":[])"), "Attributes is not an object", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"SentTimestamp":12})"), "Attributes.SentTimestamp is not a string",
             "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"ApproximateReceiveCount":"abc"})"),
             "ApproximateReceiveCount is not a positive 32-bit integer", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"ApproximateReceiveCount":"4294967296"})"),
             "ApproximateReceiveCount is not a positive 32-bit integer", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"ApproximateReceiveCount":"0"})"),
             "ApproximateReceiveCount is not a positive 32-bit integer", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"ApproximateReceiveCount":"-1"})"),
             "ApproximateReceiveCount is not a positive 32-bit integer", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"SentTimestamp":"99999999999999999999"})"),
             "SentTimestamp is not a count of milliseconds", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"SentTimestamp":"1e3"})"),
             "SentTimestamp is not a count of milliseconds", "rh-1"},
            // Found by fuzz/fuzz_sqs_responses: past year 2262 the conversion to system_clock's
            // nanoseconds overflowed (UB) instead of being refused.
            {one_message(R"("Body":"x","Attributes":{"SentTimestamp":"91700000000000"})"),
             "SentTimestamp is not a count of milliseconds", "rh-1"},
            {one_message(R"("Body":"x","Attributes":{"SentTimestamp":"9223372036854775807"})"),
             "SentTimestamp is not a count of milliseconds", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":"none")"), "MessageAttributes is not an object", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a":1})"), "MessageAttributes.a is not an object", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a":{"StringValue":"v"}})"),
             "MessageAttributes.a has no DataType", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a":{"DataType":"String"}})"),
             "MessageAttributes.a has no StringValue", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a":{"DataType":7}})"),
             "MessageAttributes.a.DataType is not a string", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":)"
                         R"({"a":{"DataType":"Binary","BinaryValue":"%%"}})"),
             "MessageAttributes.a has no valid base64 BinaryValue", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a":{"DataType":"Binary"}})"),
             "MessageAttributes.a has no valid base64 BinaryValue", "rh-1"},
            {one_message(R"("Body":"x","MessageAttributes":{"a\n\u0001":{"DataType":"String"}})"),
             "MessageAttributes.a?? has no StringValue", "rh-1"},
        };
        sqs::response_parser parser;
        for (const sample& s : samples)
        {
            CAPTURE(s.body);
            const auto result = parser.parse_receive_message(s.body);
            CHECK(result.messages.empty());
            REQUIRE(result.rejected.size() == 1);
            CHECK(result.rejected[0].reason == s.reason);
            CHECK(result.rejected[0].receipt == s.receipt);
        }
    }

    TEST_CASE("ReceiveMessage: a bad entry does not cost the others")
    {
        const std::string body = R"({"Messages":[{"MessageId":"a","ReceiptHandle":"ra","Body":"1"},)"
                                 R"({"MessageId":"b","ReceiptHandle":"rb","Body":2},)"
                                 R"({"MessageId":"c","ReceiptHandle":"rc","Body":"3"}]})";
        sqs::response_parser parser;
        const auto result = parser.parse_receive_message(body);
        REQUIRE(result.messages.size() == 2);
        CHECK(result.messages[0].id == "a");
        CHECK(result.messages[1].id == "c");
        REQUIRE(result.rejected.size() == 1);
        CHECK(result.rejected[0].id == "b");
        CHECK(result.rejected[0].receipt == "rb");
    }

    TEST_CASE("ReceiveMessage: garbage bodies give one clear error")
    {
        struct sample
        {
            std::string body;
            std::string problem;
        };
        const sample samples[] = {
            {"", "the body is empty"},
            {"[]", "the body is not a JSON object"},
            {"null", "the body is not a JSON object"},
            {"\"text\"", "the body is not a JSON object"},
            {"12345678901234567890123", "the body is not"},
            {R"({"Messages":5})", "Messages is not an array"},
            {R"({"Messages":{}})", "Messages is not an array"},
            {R"({"Messages":"[]"})", "Messages is not an array"},
            {R"({"Messages":[{"MessageId":"a")", "the body is not valid JSON"},
            {R"({"Messages":[)", "the body is not valid JSON"},
            {R"({"Messages":[{"Body":"unterminated}]})", "the body is not valid JSON"},
            {"{\"Messages\":[], \"n\": 1e999}", "the body is not valid JSON"},
            {"{\"Messages\":[]}}", "the body is not valid JSON"},
            {"{\"Messages\":[]} trailing", "the body is not valid JSON"},
            {"{\"Body\":\"\xff\"}", "the body is not valid JSON"},
            {"<html><body>502 Bad Gateway</body></html>", "the body is not valid JSON"},
            {"\x01\x02 binary \x7f\xfe junk", "the body is not valid JSON"},
            {"{\"Messages\":" + std::string(5000, '[') + std::string(5000, ']') + "}", "the body is not valid JSON"},
        };
        sqs::response_parser parser;
        for (const sample& s : samples)
        {
            CAPTURE(s.body);
            const courier::error e = error_from([&] { parser.parse_receive_message(s.body); });
            CHECK(e.code() == courier::errc::bad_response);
            CHECK(e.context().action == "ReceiveMessage");
            CHECK(contains(e.detail(), s.problem));
            CHECK(contains(e.detail(), s.body.empty() ? "" : "; the body starts: "));
            CHECK(printable(e.detail()));
            CHECK(e.detail().size() < 250);
        }
        // And the parser still works afterwards.
        CHECK(parser.parse_receive_message(receive_response).messages.size() == 2);
    }

    TEST_CASE("truncated and mutated bodies never throw anything but courier::error")
    {
        sqs::response_parser parser;
        const sqs::send_message_entry entries[] = {{.id = "a", .body = "hello"}};
        const sqs::send_message_batch_request batch{.queue_url = "q", .entries = entries};
        const sqs::send_message_request single{.queue_url = "q", .body = "hello"};
        const auto parse_all = [&](std::string_view body) {
            const auto guarded = [&](auto&& f) {
                try
                {
                    f();
                }
                catch (const courier::error& e)
                {
                    REQUIRE(e.code() == courier::errc::bad_response);
                }
            };
            guarded([&] { parser.parse_receive_message(body); });
            guarded([&] { parser.parse_delete_message_batch(body); });
            guarded([&] { parser.parse_send_message(body, single); });
            guarded([&] { parser.parse_send_message_batch(body, batch); });
            guarded([&] { parser.parse_get_queue_attributes(body); });
            guarded([&] { parser.parse_create_queue(body); });
            sqs::parse_error_response(400, body, body); // never throws
        };
        const std::string original(receive_response);
        for (std::size_t length = 0; length <= original.size(); ++length)
            parse_all(std::string_view(original).substr(0, length));
        xorshift random;
        const char replacements[] = {'"', '{', '}', '[', ']', ',', ':', '\\', '0', 'x', '\xff'};
        for (int round = 0; round < 3000; ++round)
        {
            std::string mutated = original;
            for (int k = 0; k < 3; ++k)
                mutated[random.next() % mutated.size()] = replacements[random.next() % sizeof replacements];
            parse_all(mutated);
        }
    }

    TEST_CASE("ReceiveMessage: the size limit")
    {
        sqs::response_parser parser({.max_body_bytes = 64});
        const courier::error e = error_from([&] { parser.parse_receive_message(receive_response); });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK(contains(e.detail(), "more than the 64 allowed"));
        CHECK(parser.parse_receive_message(R"({"Messages":[]})").messages.empty());
    }

    TEST_CASE("DeleteMessageBatch and ChangeMessageVisibilityBatch: partial failures")
    {
        const std::string_view body = R"json({
          "Successful": [{"Id": "0"}, {"Id": "2"}],
          "Failed": [
            {"Id": "1", "SenderFault": true, "Code": "ReceiptHandleIsInvalid",
             "Message": "The input receipt handle is invalid."},
            {"Id": "3", "SenderFault": false, "Code": "InternalError"},
            {"Id": "4", "Code": "X", "SenderFault": null}
          ]
        })json";
        sqs::response_parser parser;
        for (int action = 0; action < 2; ++action)
        {
            const sqs::batch_result result = action == 0 ? parser.parse_delete_message_batch(body)
                                                         : parser.parse_change_message_visibility_batch(body);
            CHECK(result.successful == std::vector<std::string>{"0", "2"});
            REQUIRE(result.failed.size() == 3);
            CHECK(result.failed[0].id == "1");
            CHECK(result.failed[0].sender_fault);
            CHECK(result.failed[0].code == "ReceiptHandleIsInvalid");
            CHECK(result.failed[0].message == "The input receipt handle is invalid.");
            CHECK(result.failed[1].id == "3");
            CHECK_FALSE(result.failed[1].sender_fault);
            CHECK(result.failed[1].message.empty());
            CHECK_FALSE(result.failed[2].sender_fault);
        }
        const auto all_ok = parser.parse_delete_message_batch(R"({"Successful":[{"Id":"a"}]})");
        CHECK(all_ok.successful.size() == 1);
        CHECK(all_ok.failed.empty());
    }

    TEST_CASE("batch results of the wrong shape")
    {
        struct sample
        {
            std::string body;
            std::string problem;
        };
        const sample samples[] = {
            {R"({"Successful":{}})", "Successful is not an array"},
            {R"({"Successful":[{"Id":5}]})", "Successful[0].Id is not a string"},
            {R"({"Successful":[{"Id":"a"},"b"]})", "Successful[1] is not an object"},
            {R"({"Successful":[{}]})", "Successful[0].Id is missing or empty"},
            {R"({"Failed":[{"Code":"X"}]})", "Failed[0].Id is missing or empty"},
            {R"({"Failed":[{"Id":"1","SenderFault":"yes"}]})", "Failed[0].SenderFault is not a boolean"},
            {R"({"Failed":[{"Id":"1","Code":false}]})", "Failed[0].Code is not a string"},
            {R"({"Failed":[{"Id":"1"}])", "the body is not valid JSON"},
            {"[]", "the body is not a JSON object"},
        };
        sqs::response_parser parser;
        for (const sample& s : samples)
        {
            CAPTURE(s.body);
            const courier::error e = error_from([&] { parser.parse_delete_message_batch(s.body); });
            CHECK(e.code() == courier::errc::bad_response);
            CHECK(e.context().action == "DeleteMessageBatch");
            CHECK(contains(e.detail(), s.problem));
        }
    }

    TEST_CASE("SendMessage: message id and MD5 checks")
    {
        const courier::attribute_map attributes = {{"attribName1", {"String", "attribValue 1"}}};
        const sqs::send_message_request sent{.queue_url = "q", .body = "hello", .attributes = &attributes};
        sqs::response_parser parser;
        const auto result =
            parser.parse_send_message(R"({"MD5OfMessageBody":"5d41402abc4b2a76b9719d911017c592",)"
                                      R"("MD5OfMessageAttributes":"19e27d4e946b072f3f58da80d94fd778",)"
                                      R"("MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","SequenceNumber":"1"})",
                                      sent);
        CHECK(result.message_id == "5fea7756-0ea4-451a-a703-a558b933e274");
        CHECK(result.sequence_number == "1");

        const courier::error body_mismatch = error_from([&] {
            parser.parse_send_message(R"({"MD5OfMessageBody":"00000000000000000000000000000000","MessageId":"m"})",
                                      sent);
        });
        CHECK(body_mismatch.code() == courier::errc::bad_response);
        CHECK(contains(body_mismatch.detail(), "MD5OfMessageBody does not match the body sent"));
        const courier::error attributes_mismatch = error_from([&] {
            parser.parse_send_message(
                R"({"MD5OfMessageAttributes":"5d41402abc4b2a76b9719d911017c592","MessageId":"m"})", sent);
        });
        CHECK(contains(attributes_mismatch.detail(), "MD5OfMessageAttributes does not match"));
        CHECK(error_from([&] { parser.parse_send_message("{}", sent); }).detail() ==
              "MessageId is missing or empty; the body starts: {}");
    }

    TEST_CASE("SendMessageBatch: successes, failures and an MD5 mismatch")
    {
        const sqs::send_message_entry entries[] = {
            {.id = "a", .body = "hello"}, {.id = "b", .body = "x"}, {.id = "c", .body = "y"}};
        const sqs::send_message_batch_request sent{.queue_url = "q", .entries = entries};
        const std::string_view body = R"json({
          "Successful": [
            {"Id": "a", "MessageId": "m-a", "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592"},
            {"Id": "b", "MessageId": "m-b", "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592",
             "SequenceNumber": "7"}
          ],
          "Failed": [{"Id": "c", "SenderFault": true, "Code": "InvalidMessageContents",
                      "Message": "Invalid characters"}]
        })json";
        sqs::response_parser parser;
        const auto result = parser.parse_send_message_batch(body, sent);
        REQUIRE(result.successful.size() == 1);
        CHECK(result.successful[0].id == "a");
        CHECK(result.successful[0].message_id == "m-a");
        REQUIRE(result.failed.size() == 2);
        CHECK(result.failed[0].id == "b");
        CHECK(result.failed[0].code == "MD5Mismatch");
        CHECK_FALSE(result.failed[0].sender_fault);
        CHECK(result.failed[1].id == "c");
        CHECK(result.failed[1].code == "InvalidMessageContents");
        CHECK(result.failed[1].sender_fault);

        const courier::error unknown = error_from(
            [&] { parser.parse_send_message_batch(R"({"Successful":[{"Id":"zz","MessageId":"m"}]})", sent); });
        CHECK(contains(unknown.detail(), "Successful[0].Id \"zz\" was not sent"));
        CHECK(unknown.context().action == "SendMessageBatch");
    }

    TEST_CASE("queue urls and attributes")
    {
        sqs::response_parser parser;
        CHECK(parser.parse_get_queue_url(R"({"QueueUrl":"https://sqs.example/1/q"})") == "https://sqs.example/1/q");
        CHECK(parser.parse_create_queue(R"({"QueueUrl":"https://sqs.example/1/q.fifo"})") ==
              "https://sqs.example/1/q.fifo");
        const courier::error missing = error_from([&] { parser.parse_create_queue("{}"); });
        CHECK(missing.context().action == "CreateQueue");
        CHECK(contains(missing.detail(), "QueueUrl is missing or empty"));
        CHECK(contains(error_from([&] { parser.parse_get_queue_url(R"({"QueueUrl":1})"); }).detail(),
                       "QueueUrl is not a string"));

        const auto attributes = parser.parse_get_queue_attributes(
            R"({"Attributes":{"ApproximateNumberOfMessages":"5","VisibilityTimeout":"30"}})");
        CHECK(attributes == sqs::string_map{{"ApproximateNumberOfMessages", "5"}, {"VisibilityTimeout", "30"}});
        CHECK(parser.parse_get_queue_attributes("{}").empty());
        CHECK(contains(error_from([&] { parser.parse_get_queue_attributes(R"({"Attributes":{"A":5}})"); }).detail(),
                       "Attributes.A is not a string"));
        CHECK(contains(error_from([&] { parser.parse_get_queue_attributes(R"({"Attributes":[]})"); }).detail(),
                       "Attributes is not an object"));
    }
}

// ---------------------------------------------------------------------------------------------
TEST_SUITE("sqs error responses")
{
    TEST_CASE("the documented error response")
    {
        const sqs::error_response e = sqs::parse_error_response(400, "AWS.SimpleQueueService.NonExistentQueue;Sender",
                                                                R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist",)"
                                                                R"("message":"The specified queue does not exist."})");
        CHECK(e.code == "QueueDoesNotExist");
        CHECK(e.query_code == "AWS.SimpleQueueService.NonExistentQueue");
        CHECK(e.message == "The specified queue does not exist.");
        CHECK(e.http_status == 400);
        CHECK(e.sender_fault);
        CHECK_FALSE(e.retryable);
        CHECK_FALSE(e.throttling);

        const courier::error error = sqs::make_error(e, "ReceiveMessage", queue);
        // Retrying cannot heal it: the service stops with exit_permanent_error.
        CHECK(error.code() == courier::errc::not_found);
        CHECK(error.detail() == "SQS says the queue does not exist: check its name or URL, the region and the "
                                "account (AWS.SimpleQueueService.NonExistentQueue)");
        CHECK(error.context().action == "ReceiveMessage");
        CHECK(error.context().queue == queue);
        CHECK(error.context().server_code == "QueueDoesNotExist");
        CHECK(error.context().server_message == "The specified queue does not exist.");
        CHECK(error.context().status == 400);
    }

    TEST_CASE("every body shape")
    {
        struct sample
        {
            int status;
            std::string header;
            std::string body;
            std::string code;
            std::string message;
            bool sender_fault;
            bool retryable;
            bool throttling;
        };
        const sample samples[] = {
            // "Message" capitalised, as other JSON services write it.
            {400, "", R"({"__type":"InvalidParameterValue","Message":"Bad value"})", "InvalidParameterValue",
             "Bad value", true, false, false},
            // "code" instead of "__type"; a type with a trailing URL.
            {400, "", R"({"code":"AccessDenied","message":"no"})", "AccessDenied", "no", true, false, false},
            {400, "",
             R"({"__type":"com.amazonaws.sqs#OverLimit:http://internal.amazon.com/",)"
             R"("message":"m"})",
             "OverLimit", "m", true, false, false},
            {400, "", R"({"__type":"x#Y","errorMessage":"e"})", "Y", "e", true, false, false},
            // Throttling, by code (JSON and query form) and by status.
            {400, "AWS.SimpleQueueService.RequestThrottled;Sender",
             R"({"__type":"com.amazonaws.sqs#RequestThrottled","message":"Slow down"})", "RequestThrottled",
             "Slow down", true, true, true},
            {400, "ThrottlingException;Sender", "", "", "", true, true, true},
            {400, "", R"({"__type":"ThrottlingException"})", "ThrottlingException", "", true, true, true},
            {429, "", "", "", "", true, true, true},
            // Transient: by code, and by 500/502/503/504 whatever the body.
            {500, "AWS.SimpleQueueService.InternalError;Receiver",
             R"({"__type":"com.amazonaws.sqs#InternalError","message":"oops"})", "InternalError", "oops", false, true,
             false},
            {400, "", R"({"__type":"RequestTimeout"})", "RequestTimeout", "", true, true, false},
            {503, "", "<html><body>Service Unavailable</body></html>", "",
             "<html><body>Service Unavailable</body></html>", false, true, false},
            {502, "", "", "", "", false, true, false},
            {504, "", "{}", "", "{}", false, true, false},
            {501, "", "{}", "", "{}", false, false, false},
            // The header's fault wins over the status.
            {400, "AWS.SimpleQueueService.Weird;Receiver", "{}", "", "{}", false, false, false},
            {500, "X;Sender", "{}", "", "{}", true, true, false},
            {400, "AWS.SimpleQueueService.NonExistentQueue", "", "", "", true, false, false},
            {400, "  KmsThrottled ; Sender ", "", "", "", true, false, false},
            // Garbage: nothing thrown, an excerpt kept, control characters replaced.
            {400, "", "[]", "", "[]", true, false, false},
            {400, "", "{", "", "{", true, false, false},
            {400, "", "null", "", "null", true, false, false},
            {400, "", R"({"__type":5,"message":["x"]})", "", R"({"__type":5,"message":["x"]})", true, false, false},
            {403, "", "\x01\x02\xff<error>\n", "",
             "???"
             "<error>?",
             true, false, false},
        };
        for (const sample& s : samples)
        {
            CAPTURE(s.status);
            CAPTURE(s.header);
            CAPTURE(s.body);
            const sqs::error_response e = sqs::parse_error_response(s.status, s.header, s.body);
            CHECK(e.code == s.code);
            CHECK(e.message == s.message);
            CHECK(e.http_status == s.status);
            CHECK(e.sender_fault == s.sender_fault);
            CHECK(e.retryable == s.retryable);
            CHECK(e.throttling == s.throttling);
        }
    }

    TEST_CASE("long messages and huge bodies are cut")
    {
        const std::string long_text(3000, 'x');
        const auto e = sqs::parse_error_response(400, "", R"({"__type":"A","message":")" + long_text + "\"}");
        CHECK(e.code == "A");
        CHECK(e.message.size() == 1024 + 3);
        // Past 64 KiB a body is not an SQS error and is not parsed at all.
        const std::string huge = R"({"__type":"A","message":")" + std::string(70000, 'y') + "\"}";
        const auto h = sqs::parse_error_response(503, "", huge);
        CHECK(h.code.empty());
        CHECK(h.message.size() == 200 + 3);
        CHECK(h.retryable);
    }

    TEST_CASE("make_error picks the error code")
    {
        const auto throttled =
            sqs::make_error(sqs::parse_error_response(400, "", R"({"__type":"com.amazonaws.sqs#RequestThrottled"})"),
                            "SendMessage", "q");
        CHECK(throttled.code() == courier::errc::throttled);
        CHECK(throttled.detail() == "SQS throttled the request");
        const auto stale =
            sqs::make_error(sqs::parse_error_response(400, "ReceiptHandleIsInvalid;Sender",
                                                      R"({"__type":"com.amazonaws.sqs#ReceiptHandleIsInvalid"})"),
                            "DeleteMessage", "q");
        CHECK(stale.code() == courier::errc::stale_receipt);
        const auto transient = sqs::make_error(sqs::parse_error_response(503, "", ""), "ReceiveMessage", "q");
        CHECK(transient.code() == courier::errc::server_error);
        CHECK(transient.detail() == "SQS failed the request (transient, retryable)");
        CHECK(transient.context().server_code.empty());
        const auto by_header =
            sqs::make_error(sqs::parse_error_response(400, "AWS.SimpleQueueService.NonExistentQueue;Sender", ""),
                            "GetQueueUrl", "orders");
        CHECK(by_header.context().server_code == "AWS.SimpleQueueService.NonExistentQueue");
        CHECK(by_header.code() == courier::errc::not_found);
        CHECK(by_header.detail().starts_with("SQS says the queue does not exist"));
    }

    TEST_CASE("the standard retry mode's lists")
    {
        for (std::string_view code :
             {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
              "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
              "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
              "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"})
        {
            CAPTURE(code);
            CHECK(courier::aws::is_throttling_code(code));
            CHECK_FALSE(courier::aws::is_transient_code(code));
        }
        for (std::string_view code : {"RequestTimeout", "RequestTimeoutException", "InternalError"})
        {
            CAPTURE(code);
            CHECK(courier::aws::is_transient_code(code));
            CHECK_FALSE(courier::aws::is_throttling_code(code));
        }
        for (std::string_view code : {""sv, "QueueDoesNotExist"sv, "throttling"sv, "Throttling "sv})
        {
            CHECK_FALSE(courier::aws::is_throttling_code(code));
            CHECK_FALSE(courier::aws::is_transient_code(code));
        }
    }
}
