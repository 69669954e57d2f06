// Fuzz target: the SQS JSON response parsers (src/sqs/protocol_responses.cpp), as they read a
// 200 answer from SQS or anything that claims to be SQS.
//
// The first byte picks the action (and its bit 3 turns MD5 checking off), the rest is the
// body. The contract under test: every input either parses or throws `courier::error` with
// `errc::bad_response`; nothing else escapes, and no sanitizer fires. With MD5 checking on, as
// in production, a mutated body seldom matches, so the mismatch paths a hostile server
// reaches are fuzzed; with it off, what follows the check is reached too.
#include "sqs/protocol.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// What the send parsers compare the returned MD5s against: the seeds carry the MD5s of
// exactly these, so the success paths are reached too.
const courier::attribute_map& sent_attributes()
{
    static const courier::attribute_map attributes{
        {"trace", {"String", "abc"}},
        {"blob", {"Binary", std::string("\x00\x01\xff", 3)}},
    };
    return attributes;
}

void check(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    namespace sqs = courier::sqs;
    const auto selector = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    // One parser for the whole run, as a client keeps one: reused buffers must not leak
    // state from one body into the next. Bit 3 of the selector turns MD5 checking off, as a
    // FIPS build does: a mutated body seldom keeps its MD5, and what follows the check must
    // be reached too.
    static sqs::response_parser verifying;
    static sqs::response_parser trusting({.verify_md5 = false});
    auto& parser = (selector & 8) != 0 ? trusting : verifying;
    try
    {
        switch (selector % 8)
        {
        case 0:
        {
            const auto result = parser.parse_receive_message(body);
            for (const auto& m : result.messages)
                check(m.receive_count >= 1);
            break;
        }
        case 1: parser.parse_delete_message_batch(body); break;
        case 2: parser.parse_change_message_visibility_batch(body); break;
        case 3:
        {
            const sqs::send_message_request sent{
                .queue_url = "https://q/1/q", .body = "hello", .attributes = &sent_attributes()};
            parser.parse_send_message(body, sent);
            break;
        }
        case 4:
        {
            const sqs::send_message_entry entries[] = {
                {.id = "0", .body = "hello", .attributes = &sent_attributes()},
                {.id = "1", .body = "world"},
            };
            const sqs::send_message_batch_request sent{.queue_url = "https://q/1/q", .entries = entries};
            parser.parse_send_message_batch(body, sent);
            break;
        }
        case 5: parser.parse_get_queue_url(body); break;
        case 6: parser.parse_create_queue(body); break;
        default: parser.parse_get_queue_attributes(body); break;
        }
    }
    catch (const courier::error& e)
    {
        check(e.code() == courier::errc::bad_response);
    }
    return 0;
}
