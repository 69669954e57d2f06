// The entries of a ReceiveMessage answer: each message's fields, system and message
// attributes and MD5 checks. An entry that cannot be read is reported as rejected (with its
// id and receipt when it has them) instead of failing the whole receive.
#include "aws/binary_attributes.hpp"
#include "sqs/response_reader.hpp"

#include <cstdint>

namespace courier::sqs {

namespace dom = simdjson::dom;
using aws::capped;
using aws::excerpt;
using response_reading::note;
using response_reading::parse_integer;

void response_parser::impl::read_system_attributes(dom::element value, message& m, std::string& problem)
{
    dom::object attributes;
    if (value.get_object().get(attributes))
        return note(problem, "Attributes is not an object");
    for (auto [name, field] : attributes)
    {
        std::string_view text;
        if (field.get_string().get(text))
        {
            note(problem, "Attributes." + excerpt(name) + " is not a string");
            continue;
        }
        if (name == "ApproximateReceiveCount")
        {
            if (!parse_integer(text, m.receive_count) || m.receive_count == 0)
                note(problem, "ApproximateReceiveCount is not a positive 32-bit integer");
        }
        else if (name == "SentTimestamp")
        {
            // Past about 2262 the nanosecond count of system_clock would overflow (UB; found
            // by fuzz/fuzz_sqs_responses), so such a timestamp is as malformed as a negative one.
            constexpr auto latest =
                std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::duration::max());
            std::int64_t milliseconds = 0;
            if (parse_integer(text, milliseconds) && milliseconds >= 0 && milliseconds <= latest.count())
                m.sent_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(milliseconds));
            else
                note(problem, "SentTimestamp is not a count of milliseconds");
        }
        else if (name == "MessageGroupId")
        {
            m.group_id = text;
        }
        m.system_attributes.try_emplace(std::string(name), text);
    }
}

void response_parser::impl::read_message_attributes(dom::element value, message& m, std::string& problem)
{
    dom::object attributes;
    if (value.get_object().get(attributes))
        return note(problem, "MessageAttributes is not an object");
    for (auto [name, field] : attributes)
    {
        // Built only for a problem: this loop runs for every attribute of every message.
        const auto where = [name = name] { return "MessageAttributes." + excerpt(name); };
        dom::object fields;
        if (field.get_object().get(fields))
        {
            note(problem, where() + " is not an object");
            continue;
        }
        std::string_view type;
        std::optional<std::string_view> string_value;
        std::optional<std::string_view> binary_value;
        for (auto [key, item] : fields) // StringListValues and BinaryListValues are unused
        {
            std::string_view text;
            const bool is_string = !item.get_string().get(text);
            if (key == "DataType" || key == "StringValue" || key == "BinaryValue")
            {
                if (!is_string)
                    note(problem, where() + "." + std::string(key) + " is not a string");
                else if (key == "DataType")
                    type = text;
                else
                    (key == "StringValue" ? string_value : binary_value) = text;
            }
        }
        attribute decoded;
        decoded.data_type = type;
        if (type.empty())
        {
            note(problem, where() + " has no DataType");
            continue;
        }
        if (aws::is_binary_type(type))
        {
            auto bytes = binary_value ? aws::decode_base64(*binary_value) : std::nullopt;
            if (!bytes)
            {
                note(problem, where() + " has no valid base64 BinaryValue");
                continue;
            }
            decoded.value = std::move(*bytes);
        }
        else if (string_value)
        {
            decoded.value = *string_value;
        }
        else
        {
            note(problem, where() + " has no StringValue");
            continue;
        }
        m.attributes.try_emplace(std::string(name), std::move(decoded));
    }
}

void response_parser::impl::read_message(dom::element item, receive_result& result)
{
    dom::object fields;
    if (item.get_object().get(fields))
    {
        result.rejected.push_back({{}, {}, "the entry is not a JSON object"});
        return;
    }
    message m;
    std::string problem;
    std::optional<std::string_view> body_md5;
    std::optional<std::string_view> attributes_md5;
    bool has_body = false;
    for (auto [key, value] : fields)
    {
        std::string_view text;
        const bool is_string = !value.get_string().get(text);
        if (key == "MessageId" || key == "ReceiptHandle" || key == "Body" || key == "MD5OfBody" ||
            key == "MD5OfMessageAttributes")
        {
            if (!is_string)
                note(problem, std::string(key) + " is not a string");
            else if (key == "MessageId")
                m.id = text;
            else if (key == "ReceiptHandle")
                m.receipt = text;
            else if (key == "Body")
                m.body = text, has_body = true;
            else
                (key == "MD5OfBody" ? body_md5 : attributes_md5) = text;
        }
        else if (key == "Attributes")
        {
            read_system_attributes(value, m, problem);
        }
        else if (key == "MessageAttributes")
        {
            read_message_attributes(value, m, problem);
        }
    }
    if (m.id.empty())
        note(problem, "MessageId is missing or empty");
    if (m.receipt.empty())
        note(problem, "ReceiptHandle is missing or empty");
    if (!has_body)
        note(problem, "Body is missing");
    if (problem.empty() && options.verify_md5)
    {
        if (body_md5 && !detail::md5_matches(m.body, *body_md5))
            problem = "MD5OfBody " + excerpt(*body_md5, 32) + " does not match the body (" + md5_of_body(m.body) + ")";
        // As the SDKs do, check attributes only when both they and their digest came back.
        else if (attributes_md5 && !attributes_md5->empty() && !m.attributes.empty() &&
                 !detail::attributes_md5_matches(m.attributes, *attributes_md5))
            problem = "MD5OfMessageAttributes " + excerpt(*attributes_md5, 32) + " does not match the attributes (" +
                      md5_of_attributes(m.attributes) + ")";
    }
    if (problem.empty())
        result.messages.push_back(std::move(m));
    else
        result.rejected.push_back({std::move(m.id), std::move(m.receipt), std::move(problem)});
}

} // namespace courier::sqs
