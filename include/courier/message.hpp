// The raw message as a provider delivers it, before any translation.
//
// Every provider (in-memory, SQS, SNS-over-SQS, a message broker) fills the same struct, so
// handlers, translators and error handlers never depend on which provider a route uses.
// Provider-specific metadata that has no field of its own travels in `system_attributes`,
// by the provider's own names (SQS: SentTimestamp, SenderId, ...).
#ifndef COURIER_MESSAGE_HPP
#define COURIER_MESSAGE_HPP

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace courier {

/// A message attribute (a header, on a broker): a typed value. `data_type` is "String",
/// "Number" or "Binary" (optionally with a custom suffix, "Number.int"), as SQS and SNS
/// define them; for "Binary" the value holds the raw bytes (not base64).
struct attribute
{
    std::string data_type = "String";
    std::string value{};

    friend bool operator==(const attribute&, const attribute&) = default;
};

/// Attributes by name. A std::map keeps iteration sorted, which SQS's attribute MD5 and
/// stable log output both need.
using attribute_map = std::map<std::string, attribute, std::less<>>;

/// One message as received from a provider.
///
/// Thread safety: a plain value; distinct objects are independent.
struct message
{
    /// Provider-assigned id, stable across redeliveries (SQS MessageId).
    std::string id{};
    /// Opaque token naming this delivery, for settling it (SQS ReceiptHandle, an AMQP
    /// delivery tag, a STOMP ack id). Every delivery gets a new one.
    std::string receipt{};
    /// The payload, as bytes.
    std::string body{};
    /// User attributes (SQS and SNS MessageAttributes, a broker's headers).
    attribute_map attributes{};
    /// Provider metadata without a field of its own, by the provider's names.
    std::map<std::string, std::string, std::less<>> system_attributes{};
    /// How many times this message has been delivered, this delivery included (>= 1).
    /// Exact where the provider counts (`redelivery_info::exact_count`: SQS, the memory
    /// queue); otherwise the dispatcher's own count of the deliveries of this id that its
    /// route saw in this process, at least 2 when the provider flagged it redelivered.
    std::uint32_t receive_count = 1;
    /// Delivered before (set by providers that know only this much; true whenever
    /// `receive_count` > 1).
    bool redelivered = false;
    /// FIFO message group; empty for messages without ordering. Messages of one group are
    /// handled one at a time, in order (see the README's guarantees).
    std::string group_id{};
    /// When the producer sent it (SQS SentTimestamp), if known.
    std::chrono::system_clock::time_point sent_at{};
};

} // namespace courier

#endif
