// Fuzz target: SQS error responses (src/sqs/protocol_errors.cpp): status, the
// x-amzn-query-error header and the body, then the exception built from them.
//
// `parse_error_response` promises never to throw for any content, so any exception here is
// a bug (libFuzzer reports the uncaught exception as a crash). Input layout: two bytes of
// status, one byte of header length, the header, then the body.
#include "sqs/protocol.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 3)
        return 0;
    // Statuses 0..1023: the real ones and the nonsense a broken proxy could send.
    const int status = ((data[0] << 8) | data[1]) % 1024;
    const std::size_t header_size = std::min<std::size_t>(data[2], size - 3);
    const char* rest = reinterpret_cast<const char*>(data + 3);
    const std::string_view header(rest, header_size);
    const std::string_view body(rest + header_size, size - 3 - header_size);

    const auto response = courier::sqs::parse_error_response(status, header, body);
    if (response.http_status != status)
        std::abort();
    if (response.throttling && !response.retryable)
        std::abort();
    // The texts go to logs: they are capped, whatever the body's size.
    if (response.message.size() > 4096 || response.code.size() > 4096 || response.query_code.size() > 4096)
        std::abort();
    const auto e = courier::sqs::make_error(response, "ReceiveMessage", "https://q/1/q");
    (void)e.what();
    return 0;
}
