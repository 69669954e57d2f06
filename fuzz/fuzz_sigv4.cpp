// Fuzz target: SigV4 canonicalisation (src/aws/sigv4.cpp) of the parts of a request that come
// from users: the path (dot segments, '/' runs, percent escapes), the query string (split,
// percent-decoded, re-encoded and sorted), header names and values (trimmed, whitespace runs
// collapsed, repeats joined) and the payload hash; in both flavours, signed headers and
// presigned URL.
//
// Contract: a signature, or `courier::error` with `errc::bad_configuration` for a request the
// signer refuses. Signing is deterministic, so the same request signed twice (the second time
// with the cached key) must give the same canonical request and signature.
#include "aws/sigv4.hpp"

#include <courier/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace aws = courier::aws;
    FuzzedDataProvider in(data, size);
    aws::signer_options options{.region = "us-east-1", .service = "sqs"};
    options.normalize_path = in.ConsumeBool();
    options.double_encode_path = in.ConsumeBool();
    options.add_content_sha256 = in.ConsumeBool();
    options.sign_session_token = in.ConsumeBool();
    const bool presign = in.ConsumeBool();
    const bool with_token = in.ConsumeBool();
    const auto payload_choice = in.ConsumeIntegralInRange<int>(0, 2);

    const auto method = in.ConsumeRandomLengthString(16);
    const auto path = in.ConsumeRandomLengthString(256);
    const auto query = in.ConsumeRandomLengthString(256);
    const auto header_count = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    std::vector<std::string> names, values;
    for (std::size_t i = 0; i < header_count; ++i)
    {
        names.push_back(in.ConsumeRandomLengthString(32));
        values.push_back(in.ConsumeRandomLengthString(128));
    }
    // Host is required; whether it comes first varies with the rest of the input.
    std::vector<aws::header_field> headers;
    headers.push_back({"Host", "sqs.us-east-1.amazonaws.com"});
    for (std::size_t i = 0; i < header_count; ++i)
        headers.push_back({names[i], values[i]});
    const auto payload_hash = payload_choice == 0   ? std::string()
                              : payload_choice == 1 ? std::string("UNSIGNED-PAYLOAD")
                                                    : in.ConsumeRandomLengthString(80);
    const auto body = in.ConsumeRemainingBytesAsString();

    const aws::http_request request{
        .method = method, .path = path, .query = query, .headers = headers, .body = body, .payload_hash = payload_hash};
    aws::credentials creds{.access_key_id = "AKIDEXAMPLE",
                           .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    if (with_token)
        creds.session_token = "token/with+odd=chars";
    const auto now = std::chrono::sys_days(std::chrono::year(2015) / 8 / 30) + std::chrono::hours(12);

    const aws::signer signer(options);
    try
    {
        aws::signing_trace first, second;
        if (presign)
        {
            const auto a = signer.presign(request, creds, now, std::chrono::seconds(900), &first);
            const auto b = signer.presign(request, creds, now, std::chrono::seconds(900), &second);
            if (a != b)
                std::abort();
        }
        else
        {
            const auto a = signer.sign(request, creds, now, &first);
            const auto b = signer.sign(request, creds, now, &second);
            if (a.authorization() != b.authorization())
                std::abort();
        }
        if (first.canonical_request != second.canonical_request || first.signature != second.signature ||
            first.signature.size() != 64)
            std::abort();
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_configuration)
            std::abort();
    }
    return 0;
}
