// Error answers of AWS services to courier errors (see service_error.hpp).
#include "aws/service_error.hpp"

#include "aws/error_codes.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace courier::aws {

answer_class classify_answer(int http_status, std::string_view fault, std::initializer_list<std::string_view> codes,
                             std::initializer_list<std::string_view> more_throttling_codes)
{
    answer_class out;
    if (fault == "Sender" || fault == "Receiver")
        out.sender_fault = fault == "Sender";
    else
        out.sender_fault = http_status >= 400 && http_status < 500;
    bool transient = http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
    out.throttling = http_status == 429;
    for (const std::string_view code : codes)
    {
        out.throttling = out.throttling || is_throttling_code(code);
        for (const std::string_view own : more_throttling_codes)
            out.throttling = out.throttling || code == own;
        transient = transient || is_transient_code(code);
    }
    out.retryable = out.throttling || transient;
    return out;
}

namespace {

std::string_view resource_kind(std::string_view service) noexcept
{
    return service == "SQS" ? "queue" : service == "SNS" ? "topic" : "resource";
}

} // namespace

std::optional<errc> permanent_refusal(std::string_view code) noexcept
{
    // The last segment of a query code ("AWS.SimpleQueueService.NonExistentQueue").
    const auto tail = code.substr(code.rfind('.') + 1);
    constexpr std::string_view not_found[] = {"QueueDoesNotExist", "NonExistentQueue", "NotFound", "NotFoundException",
                                              "ResourceNotFoundException"};
    constexpr std::string_view denied[] = {"AccessDenied", "AccessDeniedException", "AuthorizationError",
                                           "KmsAccessDenied", "KMSAccessDeniedException"};
    constexpr std::string_view rejected[] = {"InvalidClientTokenId",       "UnrecognizedClientException",
                                             "SignatureDoesNotMatch",      "InvalidSignatureException",
                                             "MissingAuthenticationToken", "IncompleteSignature",
                                             "InvalidAccessKeyId",         "AuthFailure"};
    auto in = [&](const auto& list) {
        for (const std::string_view c : list)
            if (c == code || c == tail)
                return true;
        return false;
    };
    if (in(not_found))
        return errc::not_found;
    if (in(denied))
        return errc::access_denied;
    if (in(rejected))
        return errc::invalid_credentials;
    return std::nullopt;
}

courier::error make_service_error(const service_answer& answer, std::string_view action, std::string_view resource)
{
    error_context context;
    context.action = action;
    context.queue = resource;
    context.server_code = answer.code;
    context.server_message = answer.message;
    context.status = answer.http_status;

    errc code = errc::server_error;
    std::string detail(answer.service);
    const auto permanent = permanent_refusal(answer.code);
    if (answer.kind.throttling)
        code = errc::throttled, detail += " throttled the request";
    else if (permanent == errc::not_found)
        code = *permanent, detail += fmt::format(" says the {} does not exist: check its name or URL, the region and "
                                                 "the account",
                                                 resource_kind(answer.service));
    else if (permanent == errc::access_denied)
        code = *permanent, detail += " denied access: the credentials' IAM policy (or the resource's policy, or its "
                                     "KMS key's) does not allow " +
                                     std::string(action);
    else if (permanent == errc::invalid_credentials)
        code = *permanent, detail += " does not accept the credentials: check the access key, the secret and the "
                                     "session token, and the clock";
    else if (answer.kind.retryable)
        detail += " failed the request (transient, retryable)";
    else if (answer.kind.sender_fault)
        detail += " rejected the request";
    else
        detail += " failed the request";
    return courier::error(code, std::move(detail), std::move(context));
}

} // namespace courier::aws
