// Fuzz target: SNS query-protocol answers (src/sns/protocol.cpp) and the XML reader under
// them (src/aws/xml.cpp), which STS answers also go through.
//
// The first byte picks the parser. Success parsers either return or throw `courier::error`
// (`errc::bad_response`); `parse_error_response` never throws; `xml_leaf_children` returns
// or throws `errc::bad_response`.
#include "aws/xml.hpp"
#include "sns/protocol.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    namespace sns = courier::sns;
    const auto selector = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    if (selector % 5 == 4)
    {
        // Never throws: the status is the second byte's worth of 4xx/5xx.
        const int status = 400 + (data[1] % 200);
        const auto response = sns::parse_error_response(status, body);
        if (response.throttling && !response.retryable)
            std::abort();
        (void)sns::make_error(response, "Publish", "arn:aws:sns:us-east-1:1:t").what();
        return 0;
    }
    try
    {
        switch (selector % 5)
        {
        case 0: sns::parse_publish(body); break;
        case 1: sns::parse_create_topic(body); break;
        case 2: sns::parse_subscribe(body); break;
        default: courier::aws::xml_leaf_children(body, "Error"); break;
        }
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_response)
            std::abort();
    }
    return 0;
}
