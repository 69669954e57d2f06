// Retries and delivery counts of the broker providers, without I/O (see
// courier/broker/retry_policy.hpp for how retries travel through retry queues).
#ifndef COURIER_SRC_BROKER_RETRY_HPP
#define COURIER_SRC_BROKER_RETRY_HPP

#include "courier/broker/retry_policy.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace courier::broker {

/// The header a retry or dead-letter copy carries: the deliveries of the message so far.
inline constexpr std::string_view deliveries_header = "x-courier-deliveries";

/// Throws `courier::error` (errc::bad_configuration) naming `queue` for buckets that are
/// missing, not positive, or longer than RabbitMQ's largest `x-message-ttl` (2^32-1 ms).
void validate(const retry_policy& p, std::string_view queue);

/// The bucket a retry of `delay` waits in: the shortest not shorter than `delay`, else the
/// longest.
std::chrono::milliseconds retry_bucket(const retry_policy& p, std::chrono::milliseconds delay);

/// "250ms", "5s", "15m", "2h": the bucket as it appears in a retry queue's name.
std::string duration_label(std::chrono::milliseconds d);

/// `<queue>.retry.<label>`.
std::string retry_queue_name(std::string_view queue, std::chrono::milliseconds bucket);

/// What a retry of a message delivered `receive_count` times becomes.
enum class retry_step
{
    release,     ///< no delay: given back at once
    retry_queue, ///< copied to a retry queue
    dead_letter, ///< max_attempts reached
};
retry_step plan_retry(const retry_policy& p, std::uint32_t receive_count, std::chrono::milliseconds delay);

/// The deliveries of a message, this one included: `before` from the copy's
/// `x-courier-deliveries` (0 on the original), plus this copy's own. A quorum queue counts
/// those (`x-delivery-count`, the earlier deliveries of this copy, absent on its first);
/// elsewhere only `redelivered` says the copy came at least twice.
std::uint32_t receive_count(std::uint32_t before, std::optional<std::uint64_t> delivery_count, bool redelivered);

/// The number in a header value ("3"), or nullopt if it is not a plain decimal.
std::optional<std::uint64_t> parse_count(std::string_view text);

} // namespace courier::broker

#endif
