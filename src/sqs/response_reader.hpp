// The inside of `sqs::response_parser`, shared by the files that read SQS answers
// (protocol_responses.cpp: the parser and each action's answer; protocol_messages.cpp: the
// entries of a ReceiveMessage answer): a reader that names where a body went wrong, and the
// parser's reusable simdjson state. Internal to src/sqs.
#ifndef COURIER_SRC_SQS_RESPONSE_READER_HPP
#define COURIER_SRC_SQS_RESPONSE_READER_HPP

#include "aws/excerpt.hpp"
#include "sqs/protocol.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::sqs {

namespace response_reading {

namespace dom = simdjson::dom;
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
                                                    std::string_view list = {}, std::size_t index = 0) const
    {
        dom::element value;
        if (object.at_key(field).get(value) || value.is_null())
            return std::nullopt;
        std::string_view text;
        if (value.get_string().get(text))
            bad_field(list, index, field, " is not a string");
        return text;
    }

    std::string_view required_string(dom::object object, std::string_view field, std::string_view list = {},
                                     std::size_t index = 0) const
    {
        const auto text = optional_string(object, field, list, index);
        if (!text || text->empty())
            bad_field(list, index, field, " is missing or empty");
        return *text;
    }

    // Calls `f(object, index)` for each object of the array member `list`; absent or null
    // means empty, as SQS and emulators leave out empty lists.
    template <class F> void for_each_entry(dom::object root, std::string_view list, F&& f) const
    {
        dom::element value;
        if (root.at_key(list).get(value) || value.is_null())
            return;
        dom::array array;
        if (value.get_array().get(array))
            bad_field({}, 0, list, " is not an array");
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

template <class Integer> inline bool parse_integer(std::string_view text, Integer& value)
{
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size();
}

// The first problem of an entry wins; later ones are usually its consequences.
inline void note(std::string& problem, std::string text)
{
    if (problem.empty())
        problem = std::move(text);
}

} // namespace response_reading

struct response_parser::impl
{
    response_parser_options options;
    simdjson::dom::parser parser;
    std::unique_ptr<char[]> buffer; // the body, followed by simdjson's padding
    std::size_t capacity = 0;

    explicit impl(response_parser_options o)
        : options(o),
          parser(o.max_body_bytes)
    {
    }

    simdjson::error_code try_parse(std::string_view body, simdjson::dom::element& root)
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

    simdjson::dom::object parse_object(const response_reading::reader& r)
    {
        if (r.body.empty())
            r.bad("the body is empty");
        if (r.body.size() > options.max_body_bytes)
            r.bad("the body has " + std::to_string(r.body.size()) + " bytes, more than the " +
                  std::to_string(options.max_body_bytes) + " allowed");
        simdjson::dom::element root;
        if (const auto error = try_parse(r.body, root))
            r.bad(std::string("the body is not valid JSON (") + simdjson::error_message(error) + ")");
        simdjson::dom::object object;
        if (root.get_object().get(object))
            r.bad("the body is not a JSON object");
        return object;
    }

    void read_system_attributes(simdjson::dom::element value, message& m, std::string& problem);
    void read_message_attributes(simdjson::dom::element value, message& m, std::string& problem);
    void read_message(simdjson::dom::element item, receive_result& result);
    void read_failures(const response_reading::reader& r, simdjson::dom::object root, std::vector<batch_failure>& out);
    batch_result parse_batch(std::string_view action, std::string_view body);
    std::string parse_queue_url(std::string_view action, std::string_view body);
};

} // namespace courier::sqs

#endif
