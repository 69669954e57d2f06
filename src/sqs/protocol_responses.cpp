// Response bodies of the SQS JSON protocol: the reusable parser and the typed results, with
// per-entry reporting of what a batch got wrong (bad fields, MD5 mismatches).
//
// We parse with simdjson's DOM API rather than On-Demand: DOM validates the whole document
// before we read a field, so a truncated or malformed body fails in one place with one clear
// error instead of halfway through filling a batch, and fields may arrive in any order. The
// parser, its tape and our padded copy of the body are reused across calls; strings are copied
// once, from simdjson's unescaped buffer into the result.
#include "sqs/response_reader.hpp"

namespace courier::sqs {

namespace dom = simdjson::dom;
using aws::capped;
using aws::excerpt;
using response_reading::reader;

void response_parser::impl::read_failures(const reader& r, dom::object root, std::vector<batch_failure>& out)
{
    r.for_each_entry(root, "Failed", [&](dom::object entry, std::size_t i) {
        batch_failure failure;
        failure.id = r.required_string(entry, "Id", "Failed", i);
        failure.code = r.optional_string(entry, "Code", "Failed", i).value_or("");
        failure.message = capped(r.optional_string(entry, "Message", "Failed", i).value_or(""));
        dom::element fault;
        if (!entry.at_key("SenderFault").get(fault) && !fault.is_null() && fault.get_bool().get(failure.sender_fault))
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

send_message_result response_parser::parse_send_message(std::string_view body, const send_message_request& sent)
{
    const reader r{sent.action, body};
    const dom::object root = impl_->parse_object(r);
    send_message_result result;
    result.message_id = r.required_string(root, "MessageId");
    result.sequence_number = r.optional_string(root, "SequenceNumber").value_or("");
    if (!impl_->options.verify_md5)
        return result;
    if (const auto md5 = r.optional_string(root, "MD5OfMessageBody"); md5 && !detail::md5_matches(sent.body, *md5))
        r.bad("MD5OfMessageBody does not match the body sent");
    if (const auto md5 = r.optional_string(root, "MD5OfMessageAttributes");
        md5 && sent.attributes && !sent.attributes->empty() && !detail::attributes_md5_matches(*sent.attributes, *md5))
        r.bad("MD5OfMessageAttributes does not match the attributes sent");
    return result;
}

send_message_batch_result response_parser::parse_send_message_batch(std::string_view body,
                                                                    const send_message_batch_request& sent)
{
    const reader r{sent.action, body};
    const dom::object root = impl_->parse_object(r);
    send_message_batch_result result;
    r.for_each_entry(root, "Successful", [&](dom::object entry, std::size_t i) {
        send_message_batch_success success;
        success.id = r.required_string(entry, "Id", "Successful", i);
        success.message_id = r.required_string(entry, "MessageId", "Successful", i);
        success.sequence_number = r.optional_string(entry, "SequenceNumber", "Successful", i).value_or("");
        const auto request =
            std::find_if(sent.entries.begin(), sent.entries.end(), [&](const auto& e) { return e.id == success.id; });
        if (request == sent.entries.end())
            r.bad_field("Successful", i, "Id", " \"" + excerpt(success.id) + "\" was not sent");
        if (impl_->options.verify_md5)
        {
            const auto body_md5 = r.optional_string(entry, "MD5OfMessageBody", "Successful", i);
            const auto attributes_md5 = r.optional_string(entry, "MD5OfMessageAttributes", "Successful", i);
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
