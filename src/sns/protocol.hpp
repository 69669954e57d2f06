// The SNS wire protocol without any I/O: form-encoded request bodies out, XML answers in.
//
// SNS speaks the AWS query protocol: every call is `POST /` with `Content-Type:
// application/x-www-form-urlencoded; charset=utf-8` and a body of `Action=<name>&Version=
// 2010-03-31&...`, maps flattened into numbered entries (`MessageAttributes.entry.1.Name`,
// `Attributes.entry.1.key`). Answers are XML: `<PublishResponse><PublishResult><MessageId>`
// on success, `<ErrorResponse><Error><Type/><Code/><Message/></Error>` on failure. This header
// gives a request struct per action courier uses, a `render` function for its body, a parser
// for its answer and the error reader with its retry classification. The signed client in
// src/aws moves the bytes.
//
// Request structs borrow, as SQS's do: views and pointers into the caller's storage, which
// only has to outlive the `render` call.
#ifndef COURIER_SRC_SNS_PROTOCOL_HPP
#define COURIER_SRC_SNS_PROTOCOL_HPP

#include "courier/error.hpp"
#include "courier/message.hpp"

#include <map>
#include <string>
#include <string_view>

namespace courier::sns {

/// The Content-Type of every request.
inline constexpr std::string_view content_type = "application/x-www-form-urlencoded; charset=utf-8";
/// The API version every request names.
inline constexpr std::string_view api_version = "2010-03-31";

/// Topic and subscription attributes by name ("FifoTopic", "RawMessageDelivery", ...).
using string_map = std::map<std::string, std::string, std::less<>>;

/// Publish. `attributes` may be null; "Binary" and "Binary.<custom>" values go out base64 as
/// `BinaryValue`, every other type as `StringValue`. Empty optional strings are left out.
struct publish_request
{
    static constexpr std::string_view action = "Publish";

    std::string_view topic_arn{};
    std::string_view message{};
    const attribute_map* attributes = nullptr;
    std::string_view subject{};
    std::string_view group_id{};         ///< FIFO topics
    std::string_view deduplication_id{}; ///< FIFO topics without content-based deduplication
};

struct create_topic_request
{
    static constexpr std::string_view action = "CreateTopic";

    std::string_view name{};
    const string_map* attributes = nullptr;
};

/// Subscribe. `ReturnSubscriptionArn=true` is always sent, so the answer holds the ARN
/// even for a subscription that still waits for confirmation (SNS would answer "pending
/// confirmation" otherwise).
struct subscribe_request
{
    static constexpr std::string_view action = "Subscribe";

    std::string_view topic_arn{};
    std::string_view protocol{}; ///< "sqs", "https", "lambda", ...
    std::string_view endpoint{}; ///< for "sqs", the queue's ARN
    const string_map* attributes = nullptr;
};

struct delete_topic_request
{
    static constexpr std::string_view action = "DeleteTopic";

    std::string_view topic_arn{};
};

/// The request's form body. Every name and value is percent-encoded except the unreserved
/// characters `A-Z a-z 0-9 - _ . ~` (so a space is `%20` and `+` is `%2B`), the encoding
/// SigV4's canonical form also uses.
///
/// Errors: throws `courier::error` with `std::errc::invalid_argument` (context: action and
/// topic) when a required value is empty or a string is not valid UTF-8 (SNS accepts only
/// UTF-8 text; binary data belongs in a "Binary" attribute).
std::string render(const publish_request& request);
std::string render(const create_topic_request& request);
std::string render(const subscribe_request& request);
std::string render(const delete_topic_request& request);

/// Parsers of 200 answers. Each throws `courier::error` with `errc::bad_response`, naming the
/// action and what was missing or malformed, when the body is not the action's XML answer.
std::string parse_publish(std::string_view body);      ///< MessageId
std::string parse_create_topic(std::string_view body); ///< TopicArn
std::string parse_subscribe(std::string_view body);    ///< SubscriptionArn

/// What an error answer said, and what to do about it.
struct error_response
{
    std::string type{};    ///< "Sender" or "Receiver"; empty if the body gave none
    std::string code{};    ///< e.g. "NotFound", "InvalidParameter", "Throttled"
    std::string message{}; ///< the server's text, or an excerpt of a body that was not XML
    int http_status = 0;
    bool sender_fault = false; ///< the request was wrong ("Sender", else any 4xx)
    bool retryable = false;    ///< throttling or transient, per the standard retry mode
    bool throttling = false;   ///< retryable, and the server asked us to slow down
};

/// Reads an error answer. Never throws for any content (only std::bad_alloc): a body that
/// is not the expected XML still yields the status-based classification and an excerpt.
error_response parse_error_response(int http_status, std::string_view body);

/// The exception for an error answer: `errc::throttled` if throttling, `errc::server_error`
/// otherwise; the context carries action, topic (in `queue`), code, message and status.
courier::error make_error(const error_response& response, std::string_view action, std::string_view topic);

} // namespace courier::sns

#endif
