// Sans-io pieces of the credential sources: ISO 8601 times, the JSON of the container and
// EC2 metadata endpoints, and the XML of STS. The form encoding of the STS request is in
// aws/form_encoding.hpp, the XML reader in aws/xml.hpp: SNS uses both.
//
// The responses parsed here hold secrets, so no error quotes a response body; errors name
// the element or field that was missing or malformed. simdjson stays in the .cpp file.
#ifndef COURIER_SRC_AWS_CREDENTIAL_PARSING_HPP
#define COURIER_SRC_AWS_CREDENTIAL_PARSING_HPP

#include "courier/aws/credentials.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace courier::aws {

/// Parses `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second, then `Z` or an offset
/// (`+HH:MM`, `-HHMM`), as AWS services write expirations. Returns nothing if malformed,
/// or if the time is not within `system_clock`'s range less a year (late 1678 to early 2261).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, truncated to seconds), for log lines and tests.
std::string format_iso8601(std::chrono::system_clock::time_point t);

/// Credentials from the JSON of the container endpoint or EC2 instance metadata:
/// `AccessKeyId`, `SecretAccessKey`, `Token` (optional), `Expiration` (optional) and, from
/// IMDS, `Code` (anything but "Success" is an error).
/// Throws `courier::error` (`errc::bad_response`) naming what is wrong, never quoting the body.
credentials parse_credentials_json(std::string_view body);

/// Credentials from an `AssumeRoleWithWebIdentity` response
/// (`.../Credentials/{AccessKeyId, SecretAccessKey, SessionToken, Expiration}`).
/// Throws `courier::error` (`errc::bad_response`) if one is missing or malformed.
credentials parse_sts_credentials(std::string_view xml);

/// `Code` and `Message` of an STS `<ErrorResponse><Error>`; empty strings when the body is
/// not such a document. Never throws.
struct sts_error
{
    std::string code;
    std::string message;
};
sts_error parse_sts_error(std::string_view xml) noexcept;

} // namespace courier::aws

#endif
