// Amazon SNS: a client for publishing and topic management. It speaks the AWS query
// protocol over the same signed, retried HTTP client as `sqs_client`, with the same options
// (`aws::client_options`; the endpoint variable is `AWS_ENDPOINT_URL_SNS`).
#ifndef COURIER_SNS_CLIENT_HPP
#define COURIER_SNS_CLIENT_HPP

#include <courier/aws/client_options.hpp>
#include <courier/message.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace courier {

/// One message for `sns_client::publish`.
///
/// It has constructors rather than being an aggregate on purpose: GCC 12 miscompiles a
/// braced aggregate with std::string members passed by value inside a `co_await`
/// expression (`free(): invalid pointer`; chriskohlhoff/asio#1073), and a type with a
/// constructor is never initialised that way. Set the FIFO fields after construction.
struct sns_message
{
    sns_message() = default;
    explicit sns_message(std::string text, attribute_map with_attributes = {}, std::string with_subject = {})
        : body(std::move(text)),
          attributes(std::move(with_attributes)),
          subject(std::move(with_subject))
    {
    }

    /// The payload: UTF-8 text, 256 KiB at most with the attributes.
    std::string body;
    /// At most 10 (an SNS limit); "Binary" values hold raw bytes.
    attribute_map attributes;
    /// For email subscriptions and the envelope's `Subject`; empty: none.
    std::string subject;
    /// FIFO topics: the message group (required there).
    std::string group_id;
    /// FIFO topics: the deduplication id; empty uses content-based deduplication.
    std::string deduplication_id;
};

/// Topic and subscription attributes, by SNS's names ("FifoTopic", "RawMessageDelivery",
/// "FilterPolicy", ...).
using topic_attributes = std::map<std::string, std::string, std::less<>>;

/// An SNS client.
///
/// Errors: every call throws `courier::error`: `errc::server_error` or `errc::throttled`
/// with SNS's code and message in the context (`queue` holds the topic ARN), transport and
/// credential errors as for `sqs_client`, and `std::errc::invalid_argument` before sending
/// when a required value is empty or text is not UTF-8.
///
/// Thread safety: safe to use from any thread; requests run on an internal strand.
/// Lifetime: destroy it before its execution context.
class sns_client
{
public:
    explicit sns_client(boost::asio::any_io_executor executor, aws::client_options options = {});
    ~sns_client();
    sns_client(const sns_client&) = delete;
    sns_client& operator=(const sns_client&) = delete;

    /// Publishes one message; returns the MessageId SNS assigned.
    boost::asio::awaitable<std::string> publish(std::string topic_arn, sns_message msg);
    /// Creates a topic (or finds the existing one of that name); returns its ARN.
    boost::asio::awaitable<std::string> create_topic(std::string name, topic_attributes attributes = {});
    /// Subscribes `endpoint` (for protocol "sqs", a queue ARN) to a topic; returns the
    /// subscription's ARN.
    boost::asio::awaitable<std::string> subscribe(std::string topic_arn, std::string protocol, std::string endpoint,
                                                  topic_attributes attributes = {});
    /// Deletes a topic and its subscriptions (deleting a missing topic is not an error).
    boost::asio::awaitable<void> delete_topic(std::string topic_arn);

    /// The endpoint requests go to (after resolution).
    const std::string& endpoint() const noexcept;
    const std::string& region() const noexcept;
    /// HTTP requests sent so far, retries included.
    std::uint64_t requests_sent() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace courier

#endif
