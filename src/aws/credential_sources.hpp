// The credential sources that speak HTTP: STS web identity, the container endpoint (ECS,
// EKS Pod Identity) and EC2 instance metadata (IMDSv2). Each is a `refreshing_provider`; the
// chain in credentials_provider.cpp decides which one applies and builds it here.
#ifndef COURIER_SRC_AWS_CREDENTIAL_SOURCES_HPP
#define COURIER_SRC_AWS_CREDENTIAL_SOURCES_HPP

#include "aws/refreshing_provider.hpp"
#include "courier/aws/credentials_provider.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace courier::aws {

/// `AssumeRoleWithWebIdentity` settings.
struct web_identity_settings
{
    web_identity_settings() = default; // not an aggregate: see the GCC 12 note in client.hpp

    std::string role_arn;
    std::string session_name; ///< empty: "courier-<milliseconds since the epoch>"
    std::string token_file;   ///< read again at every refresh (Kubernetes rotates it)
    std::string sts_endpoint; ///< URL
    std::chrono::milliseconds timeout{5000};
};

/// Exchanges the token in `token_file` for role credentials with an unsigned STS
/// `AssumeRoleWithWebIdentity` query request. Throws `courier::error`
/// (`errc::bad_configuration`) if the endpoint URL is invalid.
std::shared_ptr<credentials_provider> make_web_identity_provider(boost::asio::any_io_executor ex,
                                                                 web_identity_settings settings,
                                                                 refresh_settings refresh);

/// `GET url` on the container credentials endpoint. The Authorization header is the contents
/// of `token_file` (read at every refresh) if set, else `token` if set. Throws
/// `courier::error` (`errc::bad_configuration`) if the URL is invalid.
std::shared_ptr<credentials_provider> make_container_provider(boost::asio::any_io_executor ex, const std::string& url,
                                                              std::string token_file, std::string token,
                                                              std::chrono::milliseconds timeout,
                                                              refresh_settings refresh);

/// EC2 instance metadata, IMDSv2: a session token (PUT), the role name, then the role's
/// credentials. Throws `courier::error` (`errc::bad_configuration`) if the URL is invalid.
std::shared_ptr<credentials_provider> make_imds_provider(boost::asio::any_io_executor ex,
                                                         const std::string& endpoint_url,
                                                         std::chrono::milliseconds timeout, refresh_settings refresh);

} // namespace courier::aws

#endif
