// What AWS error codes mean, whichever protocol carried them (SQS's JSON, SNS's XML): the
// standard retry mode's throttling and transient lists, and the answers that say the request's
// credentials or its signing time were refused.
//
// Codes are the short form ("ThrottlingException", not "com.amazonaws...#Throttling...").
#ifndef COURIER_SRC_AWS_ERROR_CODES_HPP
#define COURIER_SRC_AWS_ERROR_CODES_HPP

#include <string_view>

namespace courier::aws {

/// Standard retry mode's lists, by error code (boto3 "Retries" guide, JS v3
/// service-error-classification, Java v2 AwsErrorCode).
bool is_throttling_code(std::string_view code) noexcept;
bool is_transient_code(std::string_view code) noexcept;

/// Why AWS refused a request's authentication, where signing again can help.
enum class auth_refusal
{
    none,
    /// The session token expired (ExpiredToken, ExpiredTokenException): the credentials are
    /// stale, fresh ones from their source may work.
    expired_credentials,
    /// The access key or session token is unknown (InvalidClientTokenId,
    /// UnrecognizedClientException): temporary credentials that were revoked or rotated.
    invalid_credentials,
    /// The request time is too far from the server's (RequestTimeTooSkewed, RequestInTheFuture,
    /// RequestExpired, or SignatureDoesNotMatch / InvalidSignatureException / AuthFailure whose
    /// message says the signature expired or is not yet current): the local clock is off.
    clock_skew,
};

/// Classifies an error answer by its code and message, as the AWS SDKs do.
auth_refusal classify_auth_refusal(std::string_view code, std::string_view message) noexcept;

} // namespace courier::aws

#endif
