// Consuming from an SNS topic: a topic delivering to an SQS queue without raw message
// delivery wraps each message in a JSON envelope. `sns_envelope` unwraps it, `sns_json<T>`
// also decodes the body:
//
//     mgr.add_route("orders", courier::make_sqs_provider(sqs, {.queue_url = url}),
//                   courier::sns_json<order>{}, handle_order);
#ifndef COURIER_SNS_ENVELOPE_HPP
#define COURIER_SNS_ENVELOPE_HPP

#include <courier/json.hpp>
#include <courier/message.hpp>

namespace courier {

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
    T operator()(const message& delivery) const { return json_decode<T>(sns_envelope{}(delivery).body); }
};

} // namespace courier

#endif
