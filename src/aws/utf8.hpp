// UTF-8 validation for text AWS services accept (SQS JSON bodies, SNS form fields): the
// length of one well-formed sequence, and the offset of the first malformed one.
//
// Inline because the JSON escaper (src/sqs/protocol_encoding.cpp) calls `utf8_sequence` for
// every non-ASCII byte of every request it renders.
#ifndef COURIER_SRC_AWS_UTF8_HPP
#define COURIER_SRC_AWS_UTF8_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace courier::aws {

/// Length of the well-formed UTF-8 sequence starting at the non-ASCII byte `p`, or 0 if it is
/// not one (a stray continuation byte, a truncated or overlong form, a UTF-16 surrogate, a
/// value past U+10FFFF).
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) noexcept
{
    const unsigned char c = *p;
    std::size_t length;
    std::uint32_t code_point;
    std::uint32_t smallest;
    if ((c & 0xe0) == 0xc0)
        length = 2, code_point = c & 0x1f, smallest = 0x80;
    else if ((c & 0xf0) == 0xe0)
        length = 3, code_point = c & 0x0f, smallest = 0x800;
    else if ((c & 0xf8) == 0xf0)
        length = 4, code_point = c & 0x07, smallest = 0x10000;
    else
        return 0;
    if (static_cast<std::size_t>(end - p) < length)
        return 0;
    for (std::size_t k = 1; k < length; ++k)
    {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        code_point = (code_point << 6) | (p[k] & 0x3f);
    }
    if (code_point < smallest || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
        return 0;
    return length;
}

/// Offset of the first byte of the first invalid UTF-8 sequence in `value`, or npos if it is
/// all valid.
inline std::size_t first_invalid_utf8(std::string_view value) noexcept
{
    const auto* const begin = reinterpret_cast<const unsigned char*>(value.data());
    const auto* const end = begin + value.size();
    for (const auto* p = begin; p != end;)
    {
        if (*p < 0x80)
        {
            ++p;
            continue;
        }
        const std::size_t length = utf8_sequence(p, end);
        if (length == 0)
            return static_cast<std::size_t>(p - begin);
        p += length;
    }
    return std::string_view::npos;
}

} // namespace courier::aws

#endif
