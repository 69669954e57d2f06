// The SQS provider: a route consuming one SQS queue.
//
//     auto sqs = std::make_shared<courier::sqs_client>(mgr.get_executor());
//     mgr.add_route("orders", courier::make_sqs_provider(sqs, {.queue_url = url}),
//                   courier::json<order>{}, handle_order);
//
// It long-polls ReceiveMessage, coalesces acknowledgements into DeleteMessageBatch and
// retries, releases and heartbeats into ChangeMessageVisibilityBatch, and declares every
// capability of the provider contract: visibility with extension (up to SQS's 12 hours),
// delayed retry, acks confirmed by callback when their batch is answered, and exact
// delivery counts (ApproximateReceiveCount).
#ifndef COURIER_SQS_PROVIDER_HPP
#define COURIER_SQS_PROVIDER_HPP

#include <courier/provider.hpp>
#include <courier/sqs/client.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace courier {

/// What a route consuming an SQS queue needs.
struct sqs_queue_options
{
    /// The queue's URL (as GetQueueUrl or CreateQueue return it).
    std::string queue_url{};
    /// Long-poll wait of ReceiveMessage (0..20 s).
    std::chrono::seconds wait_time{20};
    /// Visibility timeout requested with every receive, overriding the queue's. By default
    /// none is sent and the queue's own applies: the provider reads it once when the route
    /// starts (GetQueueAttributes), and again after an extension failed. Courier's heartbeat
    /// extends it for handlers that run longer.
    std::optional<std::chrono::seconds> visibility_timeout{};
    /// Acknowledgements and visibility changes arriving within this window are sent as one
    /// batch request (of at most 10); a full batch goes at once.
    std::chrono::milliseconds batch_window{std::chrono::milliseconds(10)};
};

/// A provider reading one queue through `client`.
std::shared_ptr<provider> make_sqs_provider(std::shared_ptr<sqs_client> client, sqs_queue_options options);

} // namespace courier

#endif
