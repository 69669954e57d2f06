// Request bodies of the SQS JSON protocol: argument checks and a small JSON writer over the
// validating escaper of protocol_encoding.cpp.
#include "aws/binary_attributes.hpp"
#include "protocol.hpp"

#include <charconv>
#include <string>
#include <system_error>

namespace courier::sqs {

namespace {

[[noreturn]] void throw_invalid(std::string_view action, std::string_view queue, std::string what)
{
    error_context context;
    context.action = action;
    context.queue = queue;
    throw courier::error(std::make_error_code(std::errc::invalid_argument), std::move(what), std::move(context));
}

// " is not valid UTF-8 (byte 0xff at offset 17)": where, but never the text itself.
std::string utf8_problem(std::string_view value, std::size_t at)
{
    constexpr char hex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(value[at]);
    return std::string(" is not valid UTF-8 (byte 0x") + hex[byte >> 4] + hex[byte & 0xf] + " at offset " +
           std::to_string(at) + ")";
}

// SQS's limit of message attributes per message.
constexpr std::size_t max_message_attributes = 10;

// Builds one JSON object into `out`. Keys given as literals are ours and need no escaping;
// everything else goes through the checked escaper. Argument errors name the field, prefixed
// with "Entries[i]." while an entry is being written.
class writer
{
public:
    writer(std::string& out, std::string_view action, std::string_view queue)
        : out_(out),
          action_(action),
          queue_(queue)
    {
        out_.clear();
    }

    [[noreturn]] void fail(std::string_view field, std::string_view problem) const
    {
        std::string what;
        if (entry_ >= 0)
            what = "Entries[" + std::to_string(entry_) + "].";
        what.append(field).append(problem);
        throw_invalid(action_, queue_, std::move(what));
    }

    void require(std::string_view value, std::string_view field) const
    {
        if (value.empty())
            fail(field, " must not be empty");
    }

    void require_range(int value, int low, int high, std::string_view field) const
    {
        if (value < low || value > high)
            fail(field,
                 " must be " + std::to_string(low) + ".." + std::to_string(high) + ", not " + std::to_string(value));
    }

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }

    void key(std::string_view literal)
    {
        separate();
        out_ += '"';
        out_ += literal;
        out_ += "\":";
        comma_ = false;
    }

    void dynamic_key(std::string_view name, std::string_view field)
    {
        string_value(name, field);
        out_ += ':';
        comma_ = false;
    }

    void string_value(std::string_view value, std::string_view field)
    {
        separate();
        const std::size_t bad = detail::append_json_string(out_, value);
        if (bad != std::string_view::npos)
            fail(field, utf8_problem(value, bad));
        comma_ = true;
    }

    void member(std::string_view literal, std::string_view value)
    {
        key(literal);
        string_value(value, literal);
    }

    void member_if(std::string_view literal, std::string_view value)
    {
        if (!value.empty())
            member(literal, value);
    }

    void member(std::string_view literal, int value)
    {
        key(literal);
        char digits[16];
        const auto result = std::to_chars(digits, digits + sizeof digits, value);
        out_.append(digits, result.ptr);
        comma_ = true;
    }

    void names(std::string_view literal, std::span<const std::string_view> names)
    {
        if (names.empty())
            return;
        key(literal);
        begin_array();
        for (std::string_view name : names)
            string_value(name, literal);
        end_array();
    }

    void attributes(const attribute_map* attributes)
    {
        if (attributes == nullptr || attributes->empty())
            return;
        // SQS refuses the whole request with more; saying so here names the message.
        if (attributes->size() > max_message_attributes)
            fail("MessageAttributes", " has " + std::to_string(attributes->size()) + " attributes; SQS takes at most " +
                                          std::to_string(max_message_attributes) + " per message");
        key("MessageAttributes");
        begin_object();
        for (const auto& [name, attribute] : *attributes)
        {
            require(name, "MessageAttributes name");
            dynamic_key(name, "MessageAttributes name");
            require(attribute.data_type, "MessageAttributes DataType");
            begin_object();
            member("DataType", attribute.data_type);
            if (aws::is_binary_type(attribute.data_type))
            {
                key("BinaryValue");
                out_ += '"';
                aws::append_base64(out_, attribute.value);
                out_ += '"';
                comma_ = true;
            }
            else
            {
                member("StringValue", attribute.value);
            }
            end_object();
        }
        end_object();
    }

    // Ids are ours and SQS restricts them: 1..80 of [A-Za-z0-9_-], distinct within a batch.
    template <class Entry> void check_entries(std::span<const Entry> entries)
    {
        if (entries.empty() || entries.size() > 10)
            fail("Entries", " must hold 1..10 entries, not " + std::to_string(entries.size()));
        for (std::size_t i = 0; i < entries.size(); ++i)
        {
            entry_ = static_cast<int>(i);
            const std::string_view id = entries[i].id;
            const bool valid = !id.empty() && id.size() <= 80 &&
                               id.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == std::string_view::npos;
            if (!valid)
                fail("Id", " must be 1..80 characters of [A-Za-z0-9_-]");
            for (std::size_t j = 0; j < i; ++j)
                if (entries[j].id == id)
                    fail("Id", " \"" + std::string(id) + "\" appears twice in the batch");
        }
        entry_ = -1;
    }

    void set_entry(int index) noexcept { entry_ = index; }

private:
    void separate()
    {
        if (comma_)
            out_ += ',';
    }

    void open(char bracket)
    {
        separate();
        out_ += bracket;
        comma_ = false;
    }

    void close(char bracket)
    {
        out_ += bracket;
        comma_ = true;
    }

    std::string& out_;
    std::string_view action_;
    std::string_view queue_;
    bool comma_ = false;
    int entry_ = -1;
};

constexpr int max_visibility_timeout = 43200; // 12 hours
constexpr int max_delay_seconds = 900;

// The one-member bodies: {"QueueUrl": ...}.
template <class Request> void render_queue_url_only(const Request& request, std::string& out)
{
    writer w(out, Request::action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.end_object();
}

// Body, delay, attributes, group and deduplication ids: shared by SendMessage and its batch.
template <class Message> void write_message_fields(writer& w, const Message& message)
{
    w.require(message.body, "MessageBody");
    if (message.delay_seconds)
        w.require_range(*message.delay_seconds, 0, max_delay_seconds, "DelaySeconds");
    w.member("MessageBody", message.body);
    if (message.delay_seconds)
        w.member("DelaySeconds", *message.delay_seconds);
    w.attributes(message.attributes);
    w.member_if("MessageGroupId", message.group_id);
    w.member_if("MessageDeduplicationId", message.deduplication_id);
}

} // namespace

void render(const receive_message_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.require_range(request.max_messages, 1, 10, "MaxNumberOfMessages");
    w.require_range(request.wait_time_seconds, 0, 20, "WaitTimeSeconds");
    if (request.visibility_timeout)
        w.require_range(*request.visibility_timeout, 0, max_visibility_timeout, "VisibilityTimeout");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.member("MaxNumberOfMessages", request.max_messages);
    w.member("WaitTimeSeconds", request.wait_time_seconds);
    if (request.visibility_timeout)
        w.member("VisibilityTimeout", *request.visibility_timeout);
    w.names("MessageAttributeNames", request.message_attribute_names);
    w.names("MessageSystemAttributeNames", request.system_attribute_names);
    if (request.send_legacy_attribute_names)
        w.names("AttributeNames", request.system_attribute_names);
    w.member_if("ReceiveRequestAttemptId", request.receive_request_attempt_id);
    w.end_object();
}

void render(const delete_message_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.require(request.receipt_handle, "ReceiptHandle");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.member("ReceiptHandle", request.receipt_handle);
    w.end_object();
}

void render(const delete_message_batch_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.check_entries(request.entries);
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.key("Entries");
    w.begin_array();
    for (std::size_t i = 0; i < request.entries.size(); ++i)
    {
        const delete_message_entry& entry = request.entries[i];
        w.set_entry(static_cast<int>(i));
        w.require(entry.receipt_handle, "ReceiptHandle");
        w.begin_object();
        w.member("Id", entry.id);
        w.member("ReceiptHandle", entry.receipt_handle);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void render(const change_message_visibility_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.require(request.receipt_handle, "ReceiptHandle");
    w.require_range(request.visibility_timeout, 0, max_visibility_timeout, "VisibilityTimeout");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.member("ReceiptHandle", request.receipt_handle);
    w.member("VisibilityTimeout", request.visibility_timeout);
    w.end_object();
}

void render(const change_message_visibility_batch_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.check_entries(request.entries);
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.key("Entries");
    w.begin_array();
    for (std::size_t i = 0; i < request.entries.size(); ++i)
    {
        const change_message_visibility_entry& entry = request.entries[i];
        w.set_entry(static_cast<int>(i));
        w.require(entry.receipt_handle, "ReceiptHandle");
        w.require_range(entry.visibility_timeout, 0, max_visibility_timeout, "VisibilityTimeout");
        w.begin_object();
        w.member("Id", entry.id);
        w.member("ReceiptHandle", entry.receipt_handle);
        w.member("VisibilityTimeout", entry.visibility_timeout);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void render(const send_message_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    write_message_fields(w, request);
    w.end_object();
}

void render(const send_message_batch_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.check_entries(request.entries);
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.key("Entries");
    w.begin_array();
    for (std::size_t i = 0; i < request.entries.size(); ++i)
    {
        w.set_entry(static_cast<int>(i));
        w.begin_object();
        w.member("Id", request.entries[i].id);
        write_message_fields(w, request.entries[i]);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void render(const get_queue_url_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_name);
    w.require(request.queue_name, "QueueName");
    w.begin_object();
    w.member("QueueName", request.queue_name);
    w.member_if("QueueOwnerAWSAccountId", request.owner_account_id);
    w.end_object();
}

void render(const create_queue_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_name);
    w.require(request.queue_name, "QueueName");
    w.begin_object();
    w.member("QueueName", request.queue_name);
    if (!request.attributes.empty())
    {
        w.key("Attributes");
        w.begin_object();
        for (const queue_attribute& attribute : request.attributes)
        {
            w.require(attribute.name, "Attributes name");
            w.dynamic_key(attribute.name, "Attributes name");
            w.string_value(attribute.value, "Attributes value");
        }
        w.end_object();
    }
    w.end_object();
}

void render(const get_queue_attributes_request& request, std::string& out)
{
    writer w(out, request.action, request.queue_url);
    w.require(request.queue_url, "QueueUrl");
    w.begin_object();
    w.member("QueueUrl", request.queue_url);
    w.names("AttributeNames", request.attribute_names);
    w.end_object();
}

void render(const delete_queue_request& request, std::string& out)
{
    render_queue_url_only(request, out);
}

void render(const purge_queue_request& request, std::string& out)
{
    render_queue_url_only(request, out);
}

} // namespace courier::sqs
