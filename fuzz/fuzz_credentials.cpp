// Fuzz target: the answers of the credential endpoints (src/aws/credential_parsing.cpp): the
// JSON of the ECS container endpoint and EC2 instance metadata, the XML of STS
// AssumeRoleWithWebIdentity and of its errors, and the ISO 8601 expirations they carry.
//
// The first byte picks the parser. Contract: credentials or `courier::error`
// (`errc::bad_response`); `parse_sts_error` is noexcept (an exception would terminate).
#include "aws/credential_parsing.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    namespace aws = courier::aws;
    const auto selector = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    try
    {
        switch (selector % 4)
        {
        case 0:
        {
            const auto c = aws::parse_credentials_json(body);
            if (c.access_key_id.empty() || c.secret_access_key.empty())
                std::abort();
            break;
        }
        case 1:
        {
            const auto c = aws::parse_sts_credentials(body);
            if (c.access_key_id.empty() || c.secret_access_key.empty())
                std::abort();
            break;
        }
        case 2: (void)aws::parse_sts_error(body); break;
        default:
            // A time that parses must print and parse back to the same second.
            if (const auto t = aws::parse_iso8601(body))
            {
                const auto again = aws::parse_iso8601(aws::format_iso8601(*t));
                if (!again ||
                    std::chrono::floor<std::chrono::seconds>(*again) != std::chrono::floor<std::chrono::seconds>(*t))
                    std::abort();
            }
            break;
        }
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_response)
            std::abort();
    }
    return 0;
}
