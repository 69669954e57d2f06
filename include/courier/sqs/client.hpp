// Amazon SQS: the client producers, tools and providers use.
//
// Spoken over HTTP/1.1 (Beast, keep-alive pool, TLS verified by default) with the AWS JSON
// 1.0 protocol, signed with SigV4. Endpoint, region and credentials are found the way the
// AWS SDKs find them (see `aws::client_options`). With an endpoint configured the client
// connects there and passes queue URLs only as the QueueUrl parameter, as the SDKs do, so
// emulators whose queue URL hosts do not resolve work.
#ifndef COURIER_SQS_CLIENT_HPP
#define COURIER_SQS_CLIENT_HPP

#include <courier/aws/client_options.hpp>
#include <courier/publisher.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace courier {

/// How to reach SQS.
struct sqs_client_options
{
    /// Endpoint, region, credentials, HTTP limits and retries.
    aws::client_options aws{};
    /// Check MD5OfBody / MD5OfMessageAttributes of received messages and of what was sent.
    bool verify_md5 = true;
};

/// A queue's settings for `create_queue` (names as SQS spells them: "VisibilityTimeout",
/// "FifoQueue", "RedrivePolicy", ...).
using queue_attributes = std::map<std::string, std::string, std::less<>>;

/// An SQS client: producers, tools and tests use it directly; providers share it.
///
/// Thread safety: safe to use from any thread; requests run on an internal strand.
/// Lifetime: destroy it before its execution context.
class sqs_client
{
public:
    explicit sqs_client(boost::asio::any_io_executor executor, sqs_client_options options = {});
    ~sqs_client();
    sqs_client(const sqs_client&) = delete;
    sqs_client& operator=(const sqs_client&) = delete;

    /// Sends one message; returns its MessageId.
    boost::asio::awaitable<std::string> send(std::string queue_url, outgoing_message msg);
    /// Sends up to 10 messages in one request; returns their MessageIds in order. Throws if
    /// any entry failed, naming each failed entry (the others were sent).
    boost::asio::awaitable<std::vector<std::string>> send_batch(std::string queue_url,
                                                                std::vector<outgoing_message> msgs);
    boost::asio::awaitable<std::string> create_queue(std::string name, queue_attributes attributes = {});
    boost::asio::awaitable<std::string> get_queue_url(std::string name);
    boost::asio::awaitable<queue_attributes> get_queue_attributes(std::string queue_url);
    boost::asio::awaitable<void> delete_queue(std::string queue_url);
    boost::asio::awaitable<void> purge_queue(std::string queue_url);

    /// The endpoint requests go to (after resolution).
    const std::string& endpoint() const noexcept;
    const std::string& region() const noexcept;
    /// HTTP requests sent so far, retries included (for metrics and tests).
    std::uint64_t requests_sent() const noexcept;

    struct impl;
    /// For the SQS provider in the same library.
    impl& internals() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

} // namespace courier

#endif
