// Amazon SNS: the envelope translators for queues subscribed to topics, a client for
// publishing and topic management, and the media-type producer modelled on
// microcosm-pubsub.
//
// Consuming: an SNS topic delivering to an SQS queue without raw message delivery wraps each
// message in a JSON envelope. `sns_envelope` unwraps it, `sns_json<T>` also decodes the body:
//
//     mgr.add_route("orders", courier::make_sqs_provider(sqs, {.queue_url = url}),
//                   courier::sns_json<order>{}, handle_order);
//
// Producing: `sns_client::publish` sends one message to a topic; `make_sns_publisher` adapts a
// topic to `courier::publisher`; `media_type_producer` picks the topic by media type and
// tags the message with it, so consumers can route on the `media_type` attribute.
//
// The client speaks the AWS query protocol over the same signed, retried HTTP client as
// `sqs_client`, with the same options (`aws::client_options`; the endpoint variable is
// `AWS_ENDPOINT_URL_SNS`).
#ifndef COURIER_SNS_HPP
#define COURIER_SNS_HPP

#include <courier/aws/client_options.hpp>
#include <courier/json.hpp>
#include <courier/json_encode.hpp>
#include <courier/message.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace courier {

// ---- consuming ------------------------------------------------------------------------

/// Translator: the message an SNS notification envelope carries.
///
/// The result keeps the SQS delivery's id, receipt, receive count, group id and send time
/// (acknowledging acts on the SQS message), and takes from the envelope:
/// - `body`: `Message`;
/// - `attributes`: `MessageAttributes` (`Type` gives the data type; `Binary` values are
///   base64 in the envelope and decoded here);
/// - `system_attributes`, added to SQS's: `TopicArn`, `SnsMessageId`, `Timestamp`, and
///   `Subject` and `SnsSequenceNumber` (FIFO topics) when present.
///
/// Errors: throws `courier::error` with `errc::translation_failed` saying what is wrong: the
/// body is not a JSON object, `Type` is missing or is not "Notification" (a
/// SubscriptionConfirmation or UnsubscribeConfirmation is named as such, so an error handler
/// can acknowledge it), `Message` is missing, or a member has the wrong type.
struct sns_envelope
{
    message operator()(const message& delivery) const;
};

/// Translator: the envelope's message decoded as JSON into T (see `courier::json`).
template <class T> struct sns_json
{
    T operator()(const message& delivery) const
    {
        return json_decode<T>(sns_envelope{}(delivery).body);
    }
};

// ---- producing ------------------------------------------------------------------------

/// One message for `sns_client::publish`.
///
/// It has constructors rather than being an aggregate on purpose: GCC 12 miscompiles a
/// braced aggregate with std::string members passed by value inside a `co_await`
/// expression (`free(): invalid pointer`; chriskohlhoff/asio#1073), and a type with a
/// constructor is never initialised that way. Set the FIFO fields after construction.
struct sns_message
{
    sns_message() = default;
    explicit sns_message(std::string body, attribute_map attributes = {}, std::string subject = {})
        : body(std::move(body)), attributes(std::move(attributes)), subject(std::move(subject))
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
    boost::asio::awaitable<std::string> create_topic(std::string name,
                                                     topic_attributes attributes = {});
    /// Subscribes `endpoint` (for protocol "sqs", a queue ARN) to a topic; returns the
    /// subscription's ARN.
    boost::asio::awaitable<std::string> subscribe(std::string topic_arn, std::string protocol,
                                                  std::string endpoint,
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

/// A publisher sending to one topic through `client`. An `outgoing_message`'s delay is
/// refused (`errc::bad_configuration`): SNS has no delivery delay.
std::shared_ptr<publisher> make_sns_publisher(std::shared_ptr<sns_client> client,
                                              std::string topic_arn);

/// Publishes JSON messages to the topic of their media type, as microcosm-pubsub's producer
/// does: each message goes to exactly one topic, chosen by its media type, and carries the
/// media type as the String attribute `media_type`, which consumers route and filter on.
///
///     courier::media_type_producer producer(sns, {{"application/vnd.order.created", orders_arn}});
///     const order_created event{...};
///     co_await producer.produce("application/vnd.order.created", event);
///
/// Thread safety: `produce` is safe from any thread (the topic map is fixed at construction).
class media_type_producer
{
public:
    /// The attribute carrying the media type.
    static constexpr std::string_view attribute_name = "media_type";

    /// `topics` maps media types to topic ARNs; `default_topic`, if not empty, takes the
    /// media types the map does not name. Throws `errc::bad_configuration` if `client` is
    /// null.
    media_type_producer(std::shared_ptr<sns_client> client,
                        std::map<std::string, std::string, std::less<>> topics,
                        std::string default_topic = {});

    /// The topic ARN for `media_type`. Throws `courier::error` (`errc::bad_configuration`)
    /// naming the media type if there is none.
    const std::string& topic_for(std::string_view media_type) const;

    /// Publishes `json_body` to the topic for `media_type`; returns the MessageId. `extra`
    /// attributes go along; a `media_type` among them is replaced by the real one.
    boost::asio::awaitable<std::string> produce(std::string media_type, std::string json_body,
                                                attribute_map extra = {});

    /// Publishes `value` (a Boost.Describe struct) encoded with `courier::json_encode`. The
    /// encoding happens before the first suspension, so `value` need not outlive the call;
    /// but on GCC 12 do not write a braced temporary (`produce(t, order{...})`) inside the
    /// `co_await`: it is destroyed twice (see `sns_message`). Name it first.
    template <detail::described_struct T>
    boost::asio::awaitable<std::string> produce(std::string media_type, const T& value,
                                                attribute_map extra = {})
    {
        return produce(std::move(media_type), json_encode(value), std::move(extra));
    }

private:
    std::shared_ptr<sns_client> client_;
    std::map<std::string, std::string, std::less<>> topics_;
    std::string default_topic_;
};

} // namespace courier

#endif
