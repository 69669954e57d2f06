// Where AWS credentials come from, and how the region and service endpoints are chosen.
//
// A `credentials_provider` hands the request signer the credentials to sign with. Long-term
// keys never change; temporary ones (web identity, container, EC2 instance metadata) expire,
// so providers of those refresh them ahead of time, in the background, while callers keep
// signing with the still-valid set. `default_credentials_chain` looks for credentials where
// the AWS SDKs look, in the same order, so a service configured for the AWS CLI or an SDK
// works unchanged. `resolve_region` and `resolve_endpoint` follow the SDKs' rules too.
//
// Nothing here logs or throws a secret: errors name the sources tried and why each did not
// apply; log lines name the source and, at most, the access key id.
#ifndef COURIER_AWS_CREDENTIALS_PROVIDER_HPP
#define COURIER_AWS_CREDENTIALS_PROVIDER_HPP

#include <courier/aws/credentials.hpp>
#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace courier::aws {

/// A source of credentials.
///
/// `get()` returns credentials that are valid now. Providers of temporary credentials refresh
/// them when they come within 5 minutes of their expiration: the refresh runs in the
/// background and `get()` keeps returning the cached credentials until it completes, so work
/// in flight never waits for a refresh of credentials that still work. Concurrent callers
/// share one refresh. If a refresh fails while the cached credentials are still valid, they
/// are kept and a warning is logged; the refresh is retried after a short pause. Only when no
/// valid credentials are cached does `get()` wait for a fetch.
///
/// When a server refuses credentials before their advertised expiry (revoked, rotated, or
/// judged expired by a server whose clock differs), the signer calls `invalidate` with them,
/// and signs the request once more if it returns true.
///
/// @par Errors
/// `get()` throws `courier::error` with `errc::no_credentials` when it has no valid credentials
/// to return (none found, expired and the refresh failed); the message says which source
/// failed and why, never a secret.
///
/// @par Cancellation
/// Cancelling a caller waiting for a fetch makes that caller throw
/// `boost::system::system_error` (`operation_aborted`); the fetch itself goes on, for the
/// other callers and the cache.
///
/// @par Thread safety
/// `get()` and `name()` may be called concurrently from any thread and any executor.
class credentials_provider
{
public:
    virtual ~credentials_provider();

    /// Credentials valid now (see the class description).
    virtual boost::asio::awaitable<credentials> get() = 0;

    /// A server refused `used` (ExpiredToken, InvalidClientTokenId): drops them if they are
    /// still the cached ones, so that the next `get()` fetches new ones. Returns true if the
    /// next `get()` will not return `used` again, false if signing again cannot help: the
    /// provider has nothing else (long-term keys), or it fetched `used` less than its minimum
    /// refresh interval ago, so that a server that keeps refusing cannot make it hammer its
    /// source. The default does nothing and returns false. Safe from any thread.
    virtual bool invalidate(const credentials& used);

    /// A short description of the source for logs and errors, e.g. "environment" or
    /// "container endpoint". Never holds a secret. The view stays valid for the provider's
    /// lifetime.
    virtual std::string_view name() const = 0;
};

/// A provider that always returns `creds` (for tests, or keys obtained elsewhere).
/// Throws `courier::error` (`errc::bad_configuration`) if the access key id or the secret key
/// is empty.
std::shared_ptr<credentials_provider> static_credentials(credentials creds);

/// Settings of `default_credentials_chain`. The endpoint members exist for tests and unusual
/// networks; leave them empty in production.
struct credential_chain_options
{
    /// Profile of the shared files. Empty: `AWS_PROFILE`, else "default".
    std::string profile;
    /// Where the chain logs which source it uses, refreshes and refresh failures.
    courier::logger log{};
    /// Timeout of each request to the container and EC2 metadata endpoints: connect, and
    /// write plus read, each. Default 1 s. STS requests, which cross the internet, get at
    /// least 5 s.
    std::chrono::milliseconds http_timeout{1000};
    /// EC2 instance metadata endpoint. Empty: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
    /// `http://[fd00:ec2::254]` if `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`, else
    /// `http://169.254.169.254`.
    std::string imds_endpoint;
    /// STS endpoint for web identity. Empty: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else
    /// `https://sts.<region>.amazonaws.com` (the global `https://sts.amazonaws.com` when no
    /// region is configured).
    std::string sts_endpoint;
    /// Skip the EC2 instance metadata source (also when `AWS_EC2_METADATA_DISABLED=true`).
    bool imds_disabled = false;
    /// Least time between the starts of two fetches from a source of temporary credentials
    /// (web identity, container, EC2), unless the cached credentials expired: a background
    /// refresh, a fetch after a failed one and a fetch after a server refused the cached
    /// credentials (`invalidate`) wait for it. Meanwhile callers get the cached credentials, or
    /// the last failure. Default 10 s.
    std::chrono::milliseconds min_refresh_interval{std::chrono::seconds(10)};
    /// Time of the refresh decisions: when cached credentials expire or are due, and the
    /// interval above. Null: real time.
    std::shared_ptr<courier::clock> clock;
};

/// The AWS SDKs' default credential chain. On the first `get()` it looks, in order, at:
///
/// 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
/// 2. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (and
///    `AWS_ROLE_SESSION_NAME`), exchanged with STS `AssumeRoleWithWebIdentity`;
/// 3. the shared files (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, and
///    `AWS_CONFIG_FILE` or `~/.aws/config`), the profile's `aws_access_key_id`,
///    `aws_secret_access_key` and `aws_session_token`, or its `web_identity_token_file` and
///    `role_arn`;
/// 4. the container endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
///    `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, or http to a
///    loopback, ECS or EKS address), with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or
///    `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the Authorization header;
/// 5. the EC2 instance metadata service (IMDSv2, session token first).
///
/// The first source that is configured is used from then on; its failures are reported, not
/// skipped, so a service does not silently switch identities. EC2 instance metadata, which
/// needs no configuration, counts as found only once it answered. If nothing applies, `get()`
/// throws `errc::no_credentials` listing each source and why it did not apply. Not supported:
/// `credential_process`, SSO and `role_arn` with `source_profile` in profiles (reported as
/// such), and IMDSv1.
///
/// Requests go out on `ex` (through a strand); the chain must be destroyed before the
/// execution context.
std::shared_ptr<credentials_provider> default_credentials_chain(boost::asio::any_io_executor ex,
                                                                credential_chain_options options = {});

/// The region to use: `explicit_region` if not empty, else `AWS_REGION`, else
/// `AWS_DEFAULT_REGION`, else `region` of the profile in the config file (`profile` empty:
/// `AWS_PROFILE` or "default").
/// Throws `courier::error` (`errc::bad_configuration`) if none is set, or if the config file
/// cannot be read or parsed.
std::string resolve_region(const std::string& explicit_region, const std::string& profile = {});

/// The endpoint URL of a service: `explicit_endpoint` if not empty, else
/// `AWS_ENDPOINT_URL_<service_env_suffix>` (e.g. "SQS"), else `AWS_ENDPOINT_URL` (both ignored
/// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else
/// `https://<service_host_prefix>.<region>.amazonaws.com`, with `amazonaws.com.cn` for the
/// `cn-` regions. Throws `courier::error` (`errc::bad_configuration`) if the URL must be built
/// and `region` is empty or not a region name.
std::string resolve_endpoint(std::string_view service_env_suffix, std::string_view service_host_prefix,
                             const std::string& explicit_endpoint, const std::string& region);

} // namespace courier::aws

#endif
