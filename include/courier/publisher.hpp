// The producing side: something a message can be sent to.
//
// Producers (an SNS topic, an SQS queue, the in-memory queue, an output queue of a
// choreography action) share this interface, so code that publishes does not care
// where the message goes and tests can swap in the in-memory queue.
#ifndef COURIER_PUBLISHER_HPP
#define COURIER_PUBLISHER_HPP

#include <courier/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace courier {

/// A message to send.
struct outgoing_message
{
    std::string body{};
    attribute_map attributes{};
    /// FIFO message group (required by FIFO queues, ignored elsewhere).
    std::string group_id{};
    /// FIFO deduplication id; empty lets the destination decide.
    std::string deduplication_id{};
    /// Delivery delay (SQS DelaySeconds).
    std::chrono::milliseconds delay{0};
};

/// A destination for messages.
///
/// Thread safety: implementations state their own; the in-memory queue's is safe from
/// any thread.
class publisher
{
public:
    virtual ~publisher() = default;

    /// Sends one message; returns the id the destination assigned.
    virtual boost::asio::awaitable<std::string> publish(outgoing_message msg) = 0;
};

} // namespace courier

#endif
