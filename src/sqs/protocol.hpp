// The SQS wire protocol without any I/O: request bodies out, typed responses in.
//
// SQS speaks the AWS JSON 1.0 protocol: every call is `POST /` with `Content-Type:
// application/x-amz-json-1.0`, `X-Amz-Target: AmazonSQS.<Action>` and a JSON object as body.
// This header gives, for each action courier uses, a request struct with its action and target
// names, a `render` function producing its body, and a parser for its response; plus the
// parser for error responses with their retry classification (the AWS SDKs' standard retry
// mode). The HTTP client, SigV4 signing and the provider that drive these live elsewhere.
// Nothing here touches a socket, and neither simdjson nor OpenSSL appears in this header.
//
// Request structs borrow: their strings are views and their lists are spans into the caller's
// storage, which only has to outlive the `render` call. An acknowledgement batch can thus be
// rendered straight from the receipts the messages already hold, without copying them.
#ifndef COURIER_SRC_SQS_PROTOCOL_HPP
#define COURIER_SRC_SQS_PROTOCOL_HPP

#include "courier/detail/json_writer.hpp"
#include "courier/error.hpp"
#include "courier/message.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace courier::sqs {

/// The Content-Type of every request (and of SQS's answers).
inline constexpr std::string_view content_type = "application/x-amz-json-1.0";

/// The default for attribute-name lists: ask for every attribute.
inline constexpr std::string_view all_names[] = {"All"};
/// Ids for the entries of a batch request (SQS allows at most 10 per batch).
inline constexpr std::string_view batch_entry_ids[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

// ---------------------------------------------------------------------------------------------
// Requests. Each has `action` (the SQS action name, for logs and error context) and `target`
// (the X-Amz-Target header value). Empty optional strings are left out of the body.

/// ReceiveMessage. Attribute names default to "All". Only `MessageSystemAttributeNames` is
/// sent: `AttributeNames` is deprecated in the API reference, current SDKs send only what
/// the caller set, and SQS and fauxqs both honour the new name. Set
/// `send_legacy_attribute_names` for an emulator that only knows the old one.
struct receive_message_request
{
    static constexpr std::string_view action = "ReceiveMessage";
    static constexpr std::string_view target = "AmazonSQS.ReceiveMessage";

    std::string_view queue_url{};
    int max_messages = 10;                   ///< 1..10
    int wait_time_seconds = 20;              ///< 0..20; 0 is a short poll
    std::optional<int> visibility_timeout{}; ///< 0..43200 s; queue default if empty
    std::span<const std::string_view> message_attribute_names = all_names;
    std::span<const std::string_view> system_attribute_names = all_names;
    bool send_legacy_attribute_names = false;      ///< also send them as `AttributeNames`
    std::string_view receive_request_attempt_id{}; ///< FIFO only
};

struct delete_message_request
{
    static constexpr std::string_view action = "DeleteMessage";
    static constexpr std::string_view target = "AmazonSQS.DeleteMessage";

    std::string_view queue_url{};
    std::string_view receipt_handle{};
};

/// One entry of a batch: `id` is ours (1..80 of [A-Za-z0-9_-], distinct within the batch)
/// and comes back in the result to say which entry succeeded.
struct delete_message_entry
{
    std::string_view id{};
    std::string_view receipt_handle{};
};

struct delete_message_batch_request
{
    static constexpr std::string_view action = "DeleteMessageBatch";
    static constexpr std::string_view target = "AmazonSQS.DeleteMessageBatch";

    std::string_view queue_url{};
    std::span<const delete_message_entry> entries{}; ///< 1..10
};

struct change_message_visibility_request
{
    static constexpr std::string_view action = "ChangeMessageVisibility";
    static constexpr std::string_view target = "AmazonSQS.ChangeMessageVisibility";

    std::string_view queue_url{};
    std::string_view receipt_handle{};
    int visibility_timeout = 0; ///< 0..43200 s; 0 makes the message visible again at once
};

struct change_message_visibility_entry
{
    std::string_view id{};
    std::string_view receipt_handle{};
    int visibility_timeout = 0;
};

struct change_message_visibility_batch_request
{
    static constexpr std::string_view action = "ChangeMessageVisibilityBatch";
    static constexpr std::string_view target = "AmazonSQS.ChangeMessageVisibilityBatch";

    std::string_view queue_url{};
    std::span<const change_message_visibility_entry> entries{}; ///< 1..10
};

/// SendMessage. Attribute values are sent as `StringValue`, or base64 as `BinaryValue` when
/// the data type is "Binary" or "Binary.<custom>".
struct send_message_request
{
    static constexpr std::string_view action = "SendMessage";
    static constexpr std::string_view target = "AmazonSQS.SendMessage";

    std::string_view queue_url{};
    std::string_view body{};
    std::optional<int> delay_seconds{};        ///< 0..900
    const attribute_map* attributes = nullptr; ///< may be null
    std::string_view group_id{};               ///< FIFO
    std::string_view deduplication_id{};       ///< FIFO without content-based deduplication
};

struct send_message_entry
{
    std::string_view id{};
    std::string_view body{};
    std::optional<int> delay_seconds{};
    const attribute_map* attributes = nullptr;
    std::string_view group_id{};
    std::string_view deduplication_id{};
};

struct send_message_batch_request
{
    static constexpr std::string_view action = "SendMessageBatch";
    static constexpr std::string_view target = "AmazonSQS.SendMessageBatch";

    std::string_view queue_url{};
    std::span<const send_message_entry> entries{}; ///< 1..10
};

struct get_queue_url_request
{
    static constexpr std::string_view action = "GetQueueUrl";
    static constexpr std::string_view target = "AmazonSQS.GetQueueUrl";

    std::string_view queue_name{};
    std::string_view owner_account_id{}; ///< for another account's queue
};

/// A queue attribute as CreateQueue takes it; every value is a string on the wire, e.g.
/// {"FifoQueue", "true"}, {"VisibilityTimeout", "30"}, {"RedrivePolicy", "<JSON text>"}.
struct queue_attribute
{
    std::string_view name{};
    std::string_view value{};
};

struct create_queue_request
{
    static constexpr std::string_view action = "CreateQueue";
    static constexpr std::string_view target = "AmazonSQS.CreateQueue";

    std::string_view queue_name{};
    std::span<const queue_attribute> attributes{};
};

struct get_queue_attributes_request
{
    static constexpr std::string_view action = "GetQueueAttributes";
    static constexpr std::string_view target = "AmazonSQS.GetQueueAttributes";

    std::string_view queue_url{};
    std::span<const std::string_view> attribute_names = all_names;
};

struct delete_queue_request
{
    static constexpr std::string_view action = "DeleteQueue";
    static constexpr std::string_view target = "AmazonSQS.DeleteQueue";

    std::string_view queue_url{};
};

struct purge_queue_request
{
    static constexpr std::string_view action = "PurgeQueue";
    static constexpr std::string_view target = "AmazonSQS.PurgeQueue";

    std::string_view queue_url{};
};

/// Renders the request's JSON body into `out`, replacing its content but keeping its
/// capacity, so a reused buffer makes rendering allocation-free.
///
/// Errors: throws `courier::error` with `std::errc::invalid_argument` (context: action and
/// queue) when a value is out of range, a batch is empty, too big or has a bad or repeated
/// id, or a string is not valid UTF-8 (the error gives the field and the byte offset).
/// Control characters, quotes and backslashes are escaped, never rejected; whether SQS
/// accepts them in a body is SQS's call.
void render(const receive_message_request& request, std::string& out);
void render(const delete_message_request& request, std::string& out);
void render(const delete_message_batch_request& request, std::string& out);
void render(const change_message_visibility_request& request, std::string& out);
void render(const change_message_visibility_batch_request& request, std::string& out);
void render(const send_message_request& request, std::string& out);
void render(const send_message_batch_request& request, std::string& out);
void render(const get_queue_url_request& request, std::string& out);
void render(const create_queue_request& request, std::string& out);
void render(const get_queue_attributes_request& request, std::string& out);
void render(const delete_queue_request& request, std::string& out);
void render(const purge_queue_request& request, std::string& out);

/// Convenience form returning a new string.
template <class Request>
requires requires
{
    Request::target;
}
std::string render(const Request& request)
{
    std::string out;
    render(request, out);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Responses.

/// A ReceiveMessage entry that could not be delivered: its MD5 did not match, or a field was
/// missing or malformed. `id` and `receipt` are filled when the entry had them, so the caller
/// can log it and leave it (SQS redelivers it after its visibility timeout, and a redrive
/// policy ends the loop) instead of losing the whole batch.
struct rejected_message
{
    std::string id{};
    std::string receipt{};
    std::string reason{};
};

struct receive_result
{
    std::vector<message> messages{};
    std::vector<rejected_message> rejected{};
};

/// A batch entry SQS did not carry out.
struct batch_failure
{
    std::string id{};
    std::string code{};        ///< e.g. "ReceiptHandleIsInvalid"; "MD5Mismatch" is courier's own
    std::string message{};     ///< the server's text (untrusted)
    bool sender_fault = false; ///< true: retrying the same entry will fail again
};

/// DeleteMessageBatch and ChangeMessageVisibilityBatch: the ids that succeeded and those
/// that failed. An id of the request in neither list was not reported by the server.
struct batch_result
{
    std::vector<std::string> successful{};
    std::vector<batch_failure> failed{};
};

struct send_message_result
{
    std::string message_id{};
    std::string sequence_number{}; ///< FIFO only
};

struct send_message_batch_success
{
    std::string id{};
    std::string message_id{};
    std::string sequence_number{};
};

struct send_message_batch_result
{
    std::vector<send_message_batch_success> successful{};
    std::vector<batch_failure> failed{};
};

using string_map = std::map<std::string, std::string, std::less<>>;

/// What an error response said, and what to do about it.
struct error_response
{
    /// Short form, e.g. "QueueDoesNotExist"; empty if the body gave none.
    std::string code{};
    /// From x-amzn-query-error, e.g. "AWS.SimpleQueueService.NonExistentQueue"; may be empty.
    std::string query_code{};
    /// The server's text, or an excerpt of a body that was not the expected JSON.
    std::string message{};
    int http_status = 0;
    bool sender_fault = false; ///< the request was wrong (4xx, or ";Sender" in the header)
    bool retryable = false;    ///< a throttling or transient error, per standard retry mode
    bool throttling = false;   ///< retryable, and the server asked us to slow down
};

struct response_parser_options
{
    /// Check MD5OfBody and MD5OfMessageAttributes (received) and MD5OfMessageBody and
    /// MD5OfMessageAttributes (sent). Needs MD5 from OpenSSL, which FIPS builds may lack.
    bool verify_md5 = true;
    /// Larger bodies are rejected as bad responses. Ten 1 MiB messages fit, unless their
    /// bodies are mostly control characters (escaped as six bytes each).
    std::size_t max_body_bytes = 32 * 1024 * 1024;
};

/// Parses SQS response bodies, reusing its buffers from one call to the next.
///
/// Every parse function throws `courier::error` with `errc::bad_response` when the body is not
/// JSON, is truncated, or does not have the shape of that action's response; the text names
/// the action and what was wrong, with at most a short, sanitized excerpt of the body.
/// Problems confined to one entry of a batch are reported per entry instead.
///
/// Thread safety: distinct objects are independent; one object is not safe to share.
class response_parser
{
public:
    explicit response_parser(response_parser_options options = {});
    response_parser(response_parser&&) noexcept;
    response_parser& operator=(response_parser&&) noexcept;
    ~response_parser();

    receive_result parse_receive_message(std::string_view body);
    batch_result parse_delete_message_batch(std::string_view body);
    batch_result parse_change_message_visibility_batch(std::string_view body);
    /// Checks the returned MD5s against what `sent` carried: a mismatch throws.
    send_message_result parse_send_message(std::string_view body, const send_message_request& sent);
    /// Checks the returned MD5s against the entries of `sent`: a mismatch turns that entry
    /// into a failure with code "MD5Mismatch" (the message was nevertheless enqueued).
    send_message_batch_result parse_send_message_batch(std::string_view body, const send_message_batch_request& sent);
    std::string parse_get_queue_url(std::string_view body);
    std::string parse_create_queue(std::string_view body);
    string_map parse_get_queue_attributes(std::string_view body);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Reads an error response: HTTP status, the x-amzn-query-error header (empty if absent) and
/// the body. Never throws for any content (only std::bad_alloc): a body that is not the
/// expected JSON still yields the status-based classification and an excerpt.
///
/// Thread safety: safe to call from several threads (it keeps one parser per thread).
error_response parse_error_response(int http_status, std::string_view query_error_header, std::string_view body);

/// The exception for an error response: `errc::throttled` if it was throttling,
/// `errc::stale_receipt` for ReceiptHandleIsInvalid, `errc::server_error` otherwise. The
/// context carries action, queue, the short code (the query code if the body had none), the
/// server's message and the HTTP status.
courier::error make_error(const error_response& response, std::string_view action, std::string_view queue);

/// Lowercase hex MD5 of a body, as SQS reports it in MD5OfBody / MD5OfMessageBody. The MD5
/// functions keep one OpenSSL context per thread; they throw `courier::error`
/// (errc::bad_configuration) if OpenSSL offers no MD5.
std::string md5_of_body(std::string_view body);
/// Lowercase hex MD5 of message attributes, computed as SQS documents it (sorted names;
/// length-prefixed name, data type, transport byte and value).
std::string md5_of_attributes(const attribute_map& attributes);

namespace detail {

/// The shared escaper (see courier/detail/json_writer.hpp).
using ::courier::detail::append_json_string;
/// Does the MD5 of `bytes` / of `attributes` equal `hex` (either case)?
bool md5_matches(std::string_view bytes, std::string_view hex);
bool attributes_md5_matches(const attribute_map& attributes, std::string_view hex);

} // namespace detail

} // namespace courier::sqs

#endif
