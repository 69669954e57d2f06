// The AWS error-code tables (see error_codes.hpp).
#include "aws/error_codes.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace courier::aws {

namespace {

bool contains_lowercase(std::string_view text, std::string_view lowercase_part) noexcept
{
    const auto it = std::search(text.begin(), text.end(), lowercase_part.begin(), lowercase_part.end(),
                                [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    return it != text.end();
}

template <std::size_t N> bool one_of(std::string_view code, const std::string_view (&codes)[N]) noexcept
{
    return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

} // namespace

// PriorRequestNotComplete is "transient" in boto3's table and "throttling" in JS and Rust; it
// is retryable either way, and we back off as for throttling.
bool is_throttling_code(std::string_view code) noexcept
{
    constexpr std::string_view codes[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    };
    return one_of(code, codes);
}

bool is_transient_code(std::string_view code) noexcept
{
    constexpr std::string_view codes[] = {"RequestTimeout", "RequestTimeoutException", "InternalError"};
    return one_of(code, codes);
}

// The lists of the AWS SDK for Go v1 (credsExpiredCodes, invalidated with Credentials.Expire)
// and of the JS v3 and Java v2 SDKs (CLOCK_SKEW_ERROR_CODES, corrected from the Date header).
// A signature error counts as skew only when its message says so: "Signature expired: ... is
// now earlier than ..." or "Signature not yet current: ... is still later than ...", as AWS
// words it; other signature errors (a wrong secret key) are not helped by signing again.
auth_refusal classify_auth_refusal(std::string_view code, std::string_view message) noexcept
{
    constexpr std::string_view expired[] = {"ExpiredToken", "ExpiredTokenException"};
    constexpr std::string_view invalid[] = {"InvalidClientTokenId", "UnrecognizedClientException"};
    constexpr std::string_view skew[] = {"RequestTimeTooSkewed", "RequestInTheFuture", "RequestExpired"};
    constexpr std::string_view signature[] = {"SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure"};
    if (one_of(code, expired))
        return auth_refusal::expired_credentials;
    if (one_of(code, invalid))
        return auth_refusal::invalid_credentials;
    if (one_of(code, skew))
        return auth_refusal::clock_skew;
    if (one_of(code, signature) &&
        (contains_lowercase(message, "signature expired") || contains_lowercase(message, "not yet current") ||
         contains_lowercase(message, "too skewed")))
        return auth_refusal::clock_skew;
    return auth_refusal::none;
}

} // namespace courier::aws
