// Response bodies of the SQS JSON protocol: the reusable parser and the typed results, with
// per-entry reporting of what a batch got wrong (bad fields, MD5 mismatches).
//
// We parse with simdjson's DOM API rather than On-Demand: DOM validates the whole document
// before we read a field, so a truncated or malformed body fails in one place with one clear
// error instead of halfway through filling a batch, and fields may arrive in any order. The
// parser, its tape and our padded copy of the body are reused across calls; strings are copied
// once, from simdjson's unescaped buffer into the result.
#include "protocol.hpp"

#include "aws/binary_attributes.hpp"
#include "aws/excerpt.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace courier::sqs {

namespace {

namespace dom = simdjson::dom;
using aws::capped;
using aws::excerpt;

// Names where a body went wrong. Each shape error says which field, in which entry.
struct reader
{
    std::string_view action;
    std::string_view body;

    [[noreturn]] void bad(std::string what) const
    {
        error_context context;
        context.action = action;
        if (!body.empty())
            what.append("; the body starts: ").append(excerpt(body));
        throw courier::error(errc::bad_response, std::move(what), std::move(context));
    }

    [[noreturn]] void bad_field(std::string_view list, std::size_t index, std::string_view field,
                                std::string_view problem) const
    {
        std::string what;
        if (!list.empty())
            what.append(list).append("[").append(std::to_string(index)).append("]");
        if (!list.empty() && !field.empty())
            what += '.';
        what.append(field).append(problem);
        bad(std::move(what));
    }

    // A string member: nullopt if absent or null, an error if of another type.
    std::optional<std::string_view> optional_string(dom::object object, std::string_view field,
                                                    std::string_view list = {},
                                                    std::size_t index = 0) const
    {
        dom::element value;
        if (object.at_key(field).get(value) || value.is_null())
            return std::nullopt;
        std::string_view text;
        if (value.get_string().get(text))
            bad_field(list, index, field, " is not a string");
        return text;
    }

    std::string_view required_string(dom::object object, std::string_view field,
                                     std::string_view list = {}, std::size_t index = 0) const
    {
        const auto text = optional_string(object, field, list, index);
        if (!text || text->empty())
            bad_field(list, index, field, " is missing or empty");
        return *text;
    }

    // Calls `f(object, index)` for each object of the array member `list`; absent or null
    // means empty, as SQS and emulators leave out empty lists.
    template <class F>
    void for_each_entry(dom::object root, std::string_view list, F&& f) const
    {
        dom::element value;
        if (root.at_key(list).get(value) || value.is_null())
            return;
        dom::array array;
        if (value.get_array().get(array))
            bad(std::string(list) + " is not an array");
        std::size_t index = 0;
        for (dom::element item : array)
        {
            dom::object entry;
            if (item.get_object().get(entry))
                bad_field(list, index, "", " is not an object");
            f(entry, index++);
        }
    }
};

template <class Integer>
bool parse_integer(std::string_view text, Integer& value)
{
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

// The first problem of an entry wins; later ones are usually its consequences.
void note(std::string& problem, std::string text)
{
    if (problem.empty())
        problem = std::move(text);
}

} // namespace

struct response_parser::impl
{
    response_parser_options options;
    dom::parser parser;
    std::unique_ptr<char[]> buffer; // the body, followed by simdjson's padding
    std::size_t capacity = 0;

    explicit impl(response_parser_options o) : options(o), parser(o.max_body_bytes) {}

    simdjson::error_code try_parse(std::string_view body, dom::element& root)
    {
        if (body.size() + simdjson::SIMDJSON_PADDING > capacity)
        {
            capacity = std::max(body.size() + simdjson::SIMDJSON_PADDING, 2 * capacity);
            buffer = std::make_unique<char[]>(capacity);
        }
        std::memcpy(buffer.get(), body.data(), body.size());
        std::memset(buffer.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
        return parser.parse(buffer.get(), body.size(), false).get(root);
    }

    dom::object parse_object(const reader& r)
    {
        if (r.body.empty())
            r.bad("the body is empty");
        if (r.body.size() > options.max_body_bytes)
            r.bad("the body has " + std::to_string(r.body.size()) + " bytes, more than the " +
                  std::to_string(options.max_body_bytes) + " allowed");
        dom::element root;
        if (const auto error = try_parse(r.body, root))
            r.bad(std::string("the body is not valid JSON (") + simdjson::error_message(error) +
                  ")");
        dom::object object;
        if (root.get_object().get(object))
            r.bad("the body is not a JSON object");
        return object;
    }

    void read_system_attributes(dom::element value, message& m, std::string& problem);
    void read_message_attributes(dom::element value, message& m, std::string& problem);
    void read_message(dom::element item, receive_result& result);
    void read_failures(const reader& r, dom::object root, std::vector<batch_failure>& out);
    batch_result parse_batch(std::string_view action, std::string_view body);
    std::string parse_queue_url(std::string_view action, std::string_view body);
};

void response_parser::impl::read_system_attributes(dom::element value, message& m,
                                                   std::string& problem)
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
            constexpr auto latest = std::chrono::floor<std::chrono::milliseconds>(
                std::chrono::system_clock::duration::max());
            std::int64_t milliseconds = 0;
            if (parse_integer(text, milliseconds) && milliseconds >= 0 &&
                milliseconds <= latest.count())
                m.sent_at = std::chrono::system_clock::time_point(
                    std::chrono::milliseconds(milliseconds));
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

void response_parser::impl::read_message_attributes(dom::element value, message& m,
                                                    std::string& problem)
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
        if (key == "MessageId" || key == "ReceiptHandle" || key == "Body" ||
            key == "MD5OfBody" || key == "MD5OfMessageAttributes")
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
            problem = "MD5OfBody " + excerpt(*body_md5, 32) + " does not match the body (" +
                      md5_of_body(m.body) + ")";
        // As the SDKs do, check attributes only when both they and their digest came back.
        else if (attributes_md5 && !attributes_md5->empty() && !m.attributes.empty() &&
                 !detail::attributes_md5_matches(m.attributes, *attributes_md5))
            problem = "MD5OfMessageAttributes " + excerpt(*attributes_md5, 32) +
                      " does not match the attributes (" +
                      md5_of_attributes(m.attributes) + ")";
    }
    if (problem.empty())
        result.messages.push_back(std::move(m));
    else
        result.rejected.push_back({std::move(m.id), std::move(m.receipt), std::move(problem)});
}

void response_parser::impl::read_failures(const reader& r, dom::object root,
                                          std::vector<batch_failure>& out)
{
    r.for_each_entry(root, "Failed", [&](dom::object entry, std::size_t i) {
        batch_failure failure;
        failure.id = r.required_string(entry, "Id", "Failed", i);
        failure.code = r.optional_string(entry, "Code", "Failed", i).value_or("");
        failure.message = capped(r.optional_string(entry, "Message", "Failed", i).value_or(""));
        dom::element fault;
        if (!entry.at_key("SenderFault").get(fault) && !fault.is_null() &&
            fault.get_bool().get(failure.sender_fault))
            r.bad_field("Failed", i, "SenderFault", " is not a boolean");
        out.push_back(std::move(failure));
    });
}

batch_result response_parser::impl::parse_batch(std::string_view action, std::string_view body)
{
    const reader r{action, body};
    const dom::object root = parse_object(r);
    batch_result result;
    r.for_each_entry(root, "Successful", [&](dom::object entry, std::size_t i) {
        result.successful.emplace_back(r.required_string(entry, "Id", "Successful", i));
    });
    read_failures(r, root, result.failed);
    return result;
}

std::string response_parser::impl::parse_queue_url(std::string_view action, std::string_view body)
{
    const reader r{action, body};
    return std::string(r.required_string(parse_object(r), "QueueUrl"));
}

response_parser::response_parser(response_parser_options options)
    : impl_(std::make_unique<impl>(options))
{
    if (options.verify_md5)
        md5_of_body({}); // fail now, at configuration time, if MD5 is unavailable
}

response_parser::response_parser(response_parser&&) noexcept = default;
response_parser& response_parser::operator=(response_parser&&) noexcept = default;
response_parser::~response_parser() = default;

receive_result response_parser::parse_receive_message(std::string_view body)
{
    const reader r{receive_message_request::action, body};
    const dom::object root = impl_->parse_object(r);
    receive_result result;
    dom::element list;
    if (root.at_key("Messages").get(list) || list.is_null())
        return result; // an empty receive has no "Messages"
    dom::array messages;
    if (list.get_array().get(messages))
        r.bad("Messages is not an array");
    result.messages.reserve(messages.size());
    for (dom::element item : messages)
        impl_->read_message(item, result);
    return result;
}

batch_result response_parser::parse_delete_message_batch(std::string_view body)
{
    return impl_->parse_batch(delete_message_batch_request::action, body);
}

batch_result response_parser::parse_change_message_visibility_batch(std::string_view body)
{
    return impl_->parse_batch(change_message_visibility_batch_request::action, body);
}

send_message_result response_parser::parse_send_message(std::string_view body,
                                                        const send_message_request& sent)
{
    const reader r{sent.action, body};
    const dom::object root = impl_->parse_object(r);
    send_message_result result;
    result.message_id = r.required_string(root, "MessageId");
    result.sequence_number = r.optional_string(root, "SequenceNumber").value_or("");
    if (!impl_->options.verify_md5)
        return result;
    if (const auto md5 = r.optional_string(root, "MD5OfMessageBody");
        md5 && !detail::md5_matches(sent.body, *md5))
        r.bad("MD5OfMessageBody does not match the body sent");
    if (const auto md5 = r.optional_string(root, "MD5OfMessageAttributes");
        md5 && sent.attributes && !sent.attributes->empty() &&
        !detail::attributes_md5_matches(*sent.attributes, *md5))
        r.bad("MD5OfMessageAttributes does not match the attributes sent");
    return result;
}

send_message_batch_result
response_parser::parse_send_message_batch(std::string_view body,
                                          const send_message_batch_request& sent)
{
    const reader r{sent.action, body};
    const dom::object root = impl_->parse_object(r);
    send_message_batch_result result;
    r.for_each_entry(root, "Successful", [&](dom::object entry, std::size_t i) {
        send_message_batch_success success;
        success.id = r.required_string(entry, "Id", "Successful", i);
        success.message_id = r.required_string(entry, "MessageId", "Successful", i);
        success.sequence_number =
            r.optional_string(entry, "SequenceNumber", "Successful", i).value_or("");
        const auto request = std::find_if(sent.entries.begin(), sent.entries.end(),
                                          [&](const auto& e) { return e.id == success.id; });
        if (request == sent.entries.end())
            r.bad_field("Successful", i, "Id", " \"" + excerpt(success.id) + "\" was not sent");
        if (impl_->options.verify_md5)
        {
            const auto body_md5 = r.optional_string(entry, "MD5OfMessageBody", "Successful", i);
            const auto attributes_md5 =
                r.optional_string(entry, "MD5OfMessageAttributes", "Successful", i);
            const char* mismatch = nullptr;
            if (body_md5 && !detail::md5_matches(request->body, *body_md5))
                mismatch = "MD5OfMessageBody does not match the body sent";
            else if (attributes_md5 && request->attributes && !request->attributes->empty() &&
                     !detail::attributes_md5_matches(*request->attributes, *attributes_md5))
                mismatch = "MD5OfMessageAttributes does not match the attributes sent";
            if (mismatch)
            {
                result.failed.push_back({std::move(success.id), "MD5Mismatch", mismatch, false});
                return;
            }
        }
        result.successful.push_back(std::move(success));
    });
    impl_->read_failures(r, root, result.failed);
    return result;
}

std::string response_parser::parse_get_queue_url(std::string_view body)
{
    return impl_->parse_queue_url(get_queue_url_request::action, body);
}

std::string response_parser::parse_create_queue(std::string_view body)
{
    return impl_->parse_queue_url(create_queue_request::action, body);
}

string_map response_parser::parse_get_queue_attributes(std::string_view body)
{
    const reader r{get_queue_attributes_request::action, body};
    const dom::object root = impl_->parse_object(r);
    string_map result;
    dom::element value;
    if (root.at_key("Attributes").get(value) || value.is_null())
        return result;
    dom::object attributes;
    if (value.get_object().get(attributes))
        r.bad("Attributes is not an object");
    for (auto [name, field] : attributes)
    {
        std::string_view text;
        if (field.get_string().get(text))
            r.bad("Attributes." + excerpt(name) + " is not a string");
        result.try_emplace(std::string(name), text);
    }
    return result;
}

} // namespace courier::sqs
