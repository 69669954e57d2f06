// The SNS envelope translator: the JSON document SNS writes into an SQS message body when a
// topic delivers to a queue without raw message delivery, turned back into the message that
// was published.
//
// Each error names the one thing that is wrong, so an error handler's log line says whether
// the queue received a notification of the wrong shape, a subscription confirmation, or
// something that never came from SNS. Errors quote member names and `Type` values (short,
// sanitized), never the body: a message's content does not belong in logs.
#include "aws/binary_attributes.hpp"
#include "aws/excerpt.hpp"

#include <courier/error.hpp>
#include <courier/sns.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include <string>
#include <string_view>

namespace courier {

namespace {

namespace dom = simdjson::dom;

[[noreturn]] void fail(std::string_view what)
{
    throw error(errc::translation_failed, fmt::format("SNS envelope: {}", what));
}

// A member that must be a string when present; null or absent reads as nothing. `where`
// names the enclosing object in errors ("message attribute \"a\": "), empty for the envelope.
bool optional_string(dom::object object, std::string_view key, std::string_view& out, std::string_view where = {})
{
    dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null())
        return false;
    if (value.get_string().get(out) != simdjson::SUCCESS)
        fail(fmt::format("{}\"{}\" is not a string", where, key));
    return true;
}

attribute read_attribute(std::string_view name, dom::element entry)
{
    const auto quoted = aws::excerpt(name, 64);
    dom::object object;
    if (entry.get_object().get(object) != simdjson::SUCCESS)
        fail(fmt::format("message attribute \"{}\" is not an object", quoted));
    const auto where = fmt::format("message attribute \"{}\": ", quoted);
    std::string_view type, value;
    if (!optional_string(object, "Type", type, where) || type.empty())
        fail(fmt::format("message attribute \"{}\" has no \"Type\"", quoted));
    if (!optional_string(object, "Value", value, where))
        fail(fmt::format("message attribute \"{}\" has no \"Value\"", quoted));
    attribute out;
    out.data_type = type;
    if (aws::is_binary_type(type))
    {
        auto bytes = aws::decode_base64(value);
        if (!bytes)
            fail(fmt::format("message attribute \"{}\" ({}) is not valid base64", quoted, aws::excerpt(type, 32)));
        out.value = std::move(*bytes);
    }
    else
        out.value = value;
    return out;
}

} // namespace

message sns_envelope::operator()(const message& delivery) const
{
    // One parser per thread: translators run synchronously, and reusing its buffers keeps
    // unwrapping allocation-free after the first message of a given size.
    thread_local dom::parser parser;
    const simdjson::padded_string padded(delivery.body);
    dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS)
        fail("the body is not JSON");
    dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS)
        fail("the body is JSON but not an object");

    std::string_view type;
    if (!optional_string(object, "Type", type))
        fail("the body has no \"Type\" member: not an SNS notification");
    if (type == "SubscriptionConfirmation" || type == "UnsubscribeConfirmation")
        fail(fmt::format("the body is an SNS {}, not a Notification: it carries no message "
                         "(acknowledge it, or confirm the subscription at its SubscribeURL)",
                         type));
    if (type != "Notification")
        fail(fmt::format("\"Type\" is \"{}\", not \"Notification\"", aws::excerpt(type, 64)));

    std::string_view body;
    if (!optional_string(object, "Message", body))
        fail("the Notification has no \"Message\" member");

    message out;
    out.id = delivery.id;
    out.receipt = delivery.receipt;
    out.receive_count = delivery.receive_count;
    out.group_id = delivery.group_id;
    out.sent_at = delivery.sent_at;
    out.system_attributes = delivery.system_attributes;
    out.body = body;

    // Envelope fields SNS always writes; lenient about absence (an emulator may skip one), strict
    // about type.
    auto copy = [&](std::string_view key, std::string_view as) {
        std::string_view value;
        if (optional_string(object, key, value))
            out.system_attributes.insert_or_assign(std::string(as), std::string(value));
    };
    copy("TopicArn", "TopicArn");
    copy("MessageId", "SnsMessageId");
    copy("Timestamp", "Timestamp");
    copy("Subject", "Subject");
    copy("SequenceNumber", "SnsSequenceNumber"); // SQS FIFO has its own SequenceNumber

    dom::element attributes;
    if (object.at_key("MessageAttributes").get(attributes) == simdjson::SUCCESS && !attributes.is_null())
    {
        dom::object entries;
        if (attributes.get_object().get(entries) != simdjson::SUCCESS)
            fail("\"MessageAttributes\" is not an object");
        for (const auto field : entries)
            out.attributes.insert_or_assign(std::string(field.key), read_attribute(field.key, field.value));
    }
    return out;
}

} // namespace courier
