// The raw message as a provider delivers it, before any translation.
//
// Every provider (in-memory, SQS, SNS-over-SQS, later STOMP or an in-process collector)
// fills the same struct, so handlers, translators and error handlers never depend on
// which provider a route uses. Provider-specific metadata that has no field of its own
// travels in `system_attributes` (SQS: SentTimestamp, SenderId, ...).
#ifndef COURIER_MESSAGE_HPP
#define COURIER_MESSAGE_HPP

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace courier {

/// A message attribute: a typed value as SQS and SNS define them. `data_type` is
/// "String", "Number" or "Binary" (optionally with a custom suffix, "Number.int");
/// for "Binary" the value holds the raw bytes (not base64).
struct attribute
{
    std::string data_type = "String";
    std::string value;

    friend bool operator==(const attribute&, const attribute&) = default;
};

/// Attributes by name. A std::map keeps iteration sorted, which SQS's attribute MD5
/// and stable log output both need.
using attribute_map = std::map<std::string, attribute, std::less<>>;

/// One message as received from a provider.
///
/// Thread safety: a plain value; distinct objects are independent.
struct message
{
    /// Provider-assigned id, stable across redeliveries (SQS MessageId).
    std::string id;
    /// Opaque token for acknowledging this delivery (SQS ReceiptHandle). A new one is
    /// issued on every delivery; only the latest one is valid.
    std::string receipt;
    /// The payload, as bytes.
    std::string body;
    /// User attributes (SQS MessageAttributes, SNS MessageAttributes).
    attribute_map attributes;
    /// Provider metadata without a field of its own, by the provider's names.
    std::map<std::string, std::string, std::less<>> system_attributes;
    /// How many times this message has been delivered, this delivery included (>= 1).
    std::uint32_t receive_count = 1;
    /// FIFO message group; empty for messages without ordering. Messages of one group
    /// are handled one at a time, in order.
    std::string group_id;
    /// When the producer sent it (SQS SentTimestamp), if known.
    std::chrono::system_clock::time_point sent_at{};
};

} // namespace courier

#endif
