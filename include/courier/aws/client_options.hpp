// How to reach an AWS service (SQS, SNS): endpoint, region, credentials, HTTP limits
// and retries. Shared by every courier AWS client.
#ifndef COURIER_AWS_CLIENT_OPTIONS_HPP
#define COURIER_AWS_CLIENT_OPTIONS_HPP

#include <courier/aws/credentials_provider.hpp>
#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace courier::aws {

/// Every member has a working default.
struct client_options
{
    /// Endpoint URL. Empty: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_SQS`),
    /// else `AWS_ENDPOINT_URL`, else `https://<service>.<region>.amazonaws.com`.
    std::string endpoint;
    /// Signing region. Empty: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`;
    /// with none of those and an endpoint set, the endpoint's region or "us-east-1".
    std::string region;
    /// Where credentials come from. Null: the AWS SDKs' default chain.
    std::shared_ptr<credentials_provider> credentials;
    /// Open connections at most (requests beyond wait for one).
    std::size_t max_connections = 16;
    /// TCP connect (and TLS handshake) timeout.
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
    /// Timeout of one request (long polls add their wait time to it).
    std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
    /// Attempts per request, the first included (AWS standard retry mode: exponential
    /// backoff with full jitter and a retry quota; retries throttling, 5xx, timeouts,
    /// connection failures and unreadable answers).
    unsigned max_attempts = 3;
    /// Backoff before retry n (n = 1, 2, ...) is a random delay up to
    /// `retry_base_delay * 2^(n-1)` (up to `throttling_retry_base_delay * 2^(n-1)` after a
    /// throttling answer), and never more than `max_retry_delay`. The defaults are the AWS
    /// SDKs' standard mode.
    std::chrono::milliseconds retry_base_delay{std::chrono::seconds(1)};
    std::chrono::milliseconds throttling_retry_base_delay{std::chrono::seconds(1)};
    std::chrono::milliseconds max_retry_delay{std::chrono::seconds(20)};
    /// PEM file of trusted CAs; empty uses the system store.
    std::string ca_file;
    /// Verify the server's certificate and host name (https). Turn off only for tests.
    bool verify_tls = true;
    /// Largest response body accepted.
    std::size_t max_response_bytes = 32 * 1024 * 1024;
    /// Where retries are logged (never with secrets).
    courier::logger log{};
    /// Time of every wait the client and its users do (retry pauses, the SQS batch window,
    /// retries of batch entries) and the calendar time signatures carry and credential
    /// expirations are compared with; also given to the default credential chain. Null: real
    /// time. Tests inject `courier::testing::simulated_clock`.
    std::shared_ptr<courier::clock> clock;
};

} // namespace courier::aws

#endif
