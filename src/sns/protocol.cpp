// SNS's query protocol: form bodies out (encoded as the STS credential source encodes its
// request), XML answers in (read with the same small XML reader), and the error reader. The
// helpers it shares with SQS (base64, UTF-8 checks, excerpts of untrusted text, the error
// classification) are in src/aws.
#include "sns/protocol.hpp"

#include "aws/binary_attributes.hpp"
#include "aws/excerpt.hpp"
#include "aws/form_encoding.hpp"
#include "aws/service_error.hpp"
#include "aws/utf8.hpp"
#include "aws/xml.hpp"

#include <fmt/format.h>

#include <optional>

namespace courier::sns {

namespace {

using aws::capped;
using aws::excerpt;

// SNS errors are a few hundred bytes; anything bigger is not one and is only excerpted.
constexpr std::size_t max_error_body = 64 * 1024;

// What a subscribed SQS queue takes (see `render`).
constexpr std::size_t max_message_attributes = 10;

[[noreturn]] void invalid(std::string_view action, std::string_view topic, std::string text)
{
    throw error(std::make_error_code(std::errc::invalid_argument), fmt::format("{}: {}", action, text),
                {.action = std::string(action), .queue = std::string(topic)});
}

// A form body under construction. `Action` and `Version` come first, as the SDKs write them;
// SNS itself does not care about the order.
class form
{
public:
    form(std::string_view action, std::string_view topic)
        : action_(action),
          topic_(topic)
    {
        out_ = "Action=";
        out_ += action;
        out_ += "&Version=";
        out_ += api_version;
    }

    // Adds name=value; `what` names the value in errors ("Message", "attribute \"x\"").
    void add(std::string_view name, std::string_view value, std::string_view what = {})
    {
        if (const auto bad = aws::first_invalid_utf8(value); bad != std::string_view::npos)
            invalid(action_, topic_, fmt::format("{} is not valid UTF-8 (byte {})", what.empty() ? name : what, bad));
        out_ += '&';
        aws::append_form_encoded(out_, name);
        out_ += '=';
        aws::append_form_encoded(out_, value);
    }

    void add_required(std::string_view name, std::string_view value)
    {
        if (value.empty())
            invalid(action_, topic_, fmt::format("{} is required", name));
        add(name, value);
    }

    void add_optional(std::string_view name, std::string_view value)
    {
        if (!value.empty())
            add(name, value);
    }

    // `Attributes.entry.N.key` / `.value`, the flattened string map of CreateTopic and Subscribe.
    void add_map(const string_map* attributes)
    {
        if (attributes == nullptr)
            return;
        int n = 0;
        for (const auto& [key, value] : *attributes)
        {
            const auto prefix = fmt::format("Attributes.entry.{}.", ++n);
            add(prefix + "key", key, "an attribute name");
            add(prefix + "value", value, fmt::format("attribute {}", key));
        }
    }

    std::string take() { return std::move(out_); }

private:
    std::string_view action_;
    std::string_view topic_;
    std::string out_;
};

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The text of `<result><field>` in a 200 answer.
std::string result_field(std::string_view body, std::string_view action, std::string_view result,
                         std::string_view field)
{
    const error_context where{.action = std::string(action)};
    std::optional<aws::xml_fields> fields;
    try
    {
        fields = aws::xml_leaf_children(body, result);
    }
    catch (const error& e)
    {
        throw error(errc::bad_response, fmt::format("SNS {} answer: {}", action, e.detail()), where);
    }
    if (!fields)
        throw error(errc::bad_response,
                    fmt::format("SNS {} answer has no {} element: \"{}\"", action, result, excerpt(body)), where);
    const auto it = fields->find(field);
    const std::string_view value = it == fields->end() ? std::string_view{} : trim(it->second);
    if (value.empty())
        throw error(errc::bad_response, fmt::format("SNS {} answer lacks {}/{}", action, result, field), where);
    return std::string(value);
}

} // namespace

std::string render(const publish_request& request)
{
    form f(publish_request::action, request.topic_arn);
    f.add_required("TopicArn", request.topic_arn);
    f.add_required("Message", request.message);
    f.add_optional("Subject", request.subject);
    f.add_optional("MessageGroupId", request.group_id);
    f.add_optional("MessageDeduplicationId", request.deduplication_id);
    if (request.attributes != nullptr)
    {
        // SNS delivers at most 10 attributes to an SQS queue subscribed with raw delivery;
        // refusing here beats a message lost on the way.
        if (request.attributes->size() > max_message_attributes)
            invalid(publish_request::action, request.topic_arn,
                    fmt::format("{} message attributes; at most {} reach a subscribed SQS queue",
                                request.attributes->size(), max_message_attributes));
        int n = 0;
        std::string base64;
        for (const auto& [name, attr] : *request.attributes)
        {
            const auto prefix = fmt::format("MessageAttributes.entry.{}.", ++n);
            const auto what = fmt::format("message attribute \"{}\"", excerpt(name, 64));
            if (name.empty())
                invalid(publish_request::action, request.topic_arn, "a message attribute has no name");
            if (attr.data_type.empty())
                invalid(publish_request::action, request.topic_arn, what + " has no data type");
            f.add(prefix + "Name", name, "a message attribute name");
            f.add(prefix + "Value.DataType", attr.data_type, what + "'s data type");
            if (aws::is_binary_type(attr.data_type))
            {
                base64.clear();
                aws::append_base64(base64, attr.value);
                f.add(prefix + "Value.BinaryValue", base64);
            }
            else
                f.add(prefix + "Value.StringValue", attr.value, what);
        }
    }
    return f.take();
}

std::string render(const create_topic_request& request)
{
    form f(create_topic_request::action, request.name);
    f.add_required("Name", request.name);
    f.add_map(request.attributes);
    return f.take();
}

std::string render(const subscribe_request& request)
{
    form f(subscribe_request::action, request.topic_arn);
    f.add_required("TopicArn", request.topic_arn);
    f.add_required("Protocol", request.protocol);
    f.add_required("Endpoint", request.endpoint);
    f.add("ReturnSubscriptionArn", "true");
    f.add_map(request.attributes);
    return f.take();
}

std::string render(const delete_topic_request& request)
{
    form f(delete_topic_request::action, request.topic_arn);
    f.add_required("TopicArn", request.topic_arn);
    return f.take();
}

std::string parse_publish(std::string_view body)
{
    return result_field(body, "Publish", "PublishResult", "MessageId");
}

std::string parse_create_topic(std::string_view body)
{
    return result_field(body, "CreateTopic", "CreateTopicResult", "TopicArn");
}

std::string parse_subscribe(std::string_view body)
{
    return result_field(body, "Subscribe", "SubscribeResult", "SubscriptionArn");
}

error_response parse_error_response(int http_status, std::string_view body)
{
    error_response response;
    response.http_status = http_status;
    bool understood = false;
    if (!body.empty() && body.size() <= max_error_body)
    {
        try
        {
            if (auto fields = aws::xml_leaf_children(body, "Error"))
            {
                auto take = [&](std::string_view name) {
                    const auto it = fields->find(name);
                    return it == fields->end() ? std::string_view{} : trim(it->second);
                };
                response.type = excerpt(take("Type"), 16);
                response.code = excerpt(take("Code"), 128);
                response.message = capped(take("Message"));
                understood = !response.code.empty() || !response.message.empty();
            }
        }
        catch (const error&)
        {
            // Not XML (a proxy's HTML page, a truncated body): the excerpt below says so.
        }
    }
    if (!understood && !body.empty())
        response.message = excerpt(body, 200);

    // "Throttled" and "KMSThrottling" are SNS's own throttling codes, beyond the standard
    // retry mode's list.
    const aws::answer_class kind =
        aws::classify_answer(http_status, response.type, {response.code}, {"Throttled", "KMSThrottling"});
    response.sender_fault = kind.sender_fault;
    response.throttling = kind.throttling;
    response.retryable = kind.retryable;
    return response;
}

courier::error make_error(const error_response& response, std::string_view action, std::string_view topic)
{
    return aws::make_service_error({.service = "SNS",
                                    .code = response.code,
                                    .message = response.message,
                                    .http_status = response.http_status,
                                    .kind = {.sender_fault = response.sender_fault,
                                             .retryable = response.retryable,
                                             .throttling = response.throttling}},
                                   action, topic);
}

} // namespace courier::sns
