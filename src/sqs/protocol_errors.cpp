// Error responses of the SQS JSON protocol: what they said, and whether to retry.
//
// An error body is read best-effort: whatever arrives (an SQS JSON error, an HTML page from a
// proxy, nothing at all), the result still classifies the failure by status and headers and
// keeps a sanitized excerpt, because failing to understand an error must not hide it.
#include "aws/excerpt.hpp"
#include "aws/service_error.hpp"
#include "protocol.hpp"

#include <simdjson.h>

namespace courier::sqs {

namespace {

namespace dom = simdjson::dom;
using aws::capped;
using aws::excerpt;

// SQS errors are a few hundred bytes; anything bigger is not one and is only excerpted.
constexpr std::size_t max_error_body = 64 * 1024;

// Strips "namespace#" and ":url" from an error type, as the AWS JSON protocol specifies:
// "com.amazonaws.sqs#QueueDoesNotExist:http://..." is "QueueDoesNotExist".
std::string_view short_code(std::string_view type)
{
    type = type.substr(0, type.find(':'));
    const auto hash = type.find('#');
    return hash == std::string_view::npos ? type : type.substr(hash + 1);
}

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

} // namespace

error_response parse_error_response(int http_status, std::string_view query_error_header, std::string_view body)
{
    error_response response;
    response.http_status = http_status;

    // "AWS.SimpleQueueService.NonExistentQueue;Sender": the query-protocol code and fault.
    const auto semicolon = query_error_header.find(';');
    response.query_code = excerpt(trim(query_error_header.substr(0, semicolon)), 128);
    const std::string_view fault =
        semicolon == std::string_view::npos ? std::string_view{} : trim(query_error_header.substr(semicolon + 1));

    // Errors are rare, so a copy into a padded string costs nothing worth saving, and one
    // parser per thread keeps this function free of state the caller must carry.
    thread_local dom::parser parser(max_error_body);
    bool understood = false;
    dom::element root;
    dom::object object;
    const simdjson::padded_string padded =
        body.size() <= max_error_body ? simdjson::padded_string(body) : simdjson::padded_string();
    if (!body.empty() && body.size() <= max_error_body && !parser.parse(padded).get(root) &&
        !root.get_object().get(object))
    {
        std::string_view type;
        for (auto [key, value] : object)
        {
            std::string_view text;
            if (value.get_string().get(text))
                continue;
            if (key == "__type" || ((key == "code" || key == "Code") && type.empty()))
                type = text;
            else if (key == "message" || key == "Message" || key == "errorMessage")
                response.message = capped(text);
        }
        response.code = excerpt(short_code(type), 128);
        understood = !type.empty() || !response.message.empty();
    }
    if (!understood && !body.empty())
        response.message = excerpt(body, 200);

    // The query code's last segment ("...RequestThrottled") is checked too, since SDKs in
    // query-compatible mode report that code instead of the JSON one.
    const std::string_view query = response.query_code;
    const std::string_view query_tail = query.substr(query.rfind('.') + 1);
    const aws::answer_class kind = aws::classify_answer(http_status, fault, {response.code, query, query_tail});
    response.sender_fault = kind.sender_fault;
    response.throttling = kind.throttling;
    response.retryable = kind.retryable;
    return response;
}

courier::error make_error(const error_response& response, std::string_view action, std::string_view queue)
{
    const std::string_view code = response.code.empty() ? response.query_code : response.code;
    courier::error e = aws::make_service_error({.service = "SQS",
                                                .code = code,
                                                .message = response.message,
                                                .http_status = response.http_status,
                                                .kind = {.sender_fault = response.sender_fault,
                                                         .retryable = response.retryable,
                                                         .throttling = response.throttling}},
                                               action, queue);
    auto names = [&](std::string_view what) {
        return response.code.find(what) != std::string::npos || response.query_code.find(what) != std::string::npos;
    };
    errc kind = errc(e.code().value());
    std::string detail = e.detail();
    if (!response.throttling && names("ReceiptHandleIsInvalid"))
        kind = errc::stale_receipt, detail = "SQS no longer accepts this receipt handle";
    else if (!response.throttling && names("MessageNotInflight"))
        kind = errc::stale_receipt, detail = "SQS says the message is no longer in flight";
    else if (response.code == "InvalidParameterValue" &&
             response.message.find("Total VisibilityTimeout") != std::string::npos)
        kind = errc::visibility_limit,
        detail = "SQS refuses to keep the message hidden longer (12 hours since receipt)";
    else if (response.code.empty() || response.query_code.empty())
        return e;
    if (!response.code.empty() && !response.query_code.empty())
        detail += " (" + response.query_code + ")";
    return courier::error(kind, std::move(detail), e.context());
}

} // namespace courier::sqs
