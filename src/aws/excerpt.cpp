// Excerpts of untrusted text (see excerpt.hpp).
#include "aws/excerpt.hpp"

#include <algorithm>

namespace courier::aws {

// The start of a body, printable ASCII only, for error texts: enough to recognise an HTML
// error page or a wrong document, short enough to keep message contents out of logs.
std::string excerpt(std::string_view text, std::size_t limit)
{
    std::string out;
    const std::size_t n = std::min(text.size(), limit);
    out.reserve(n + 3);
    for (std::size_t i = 0; i < n; ++i)
    {
        const auto c = static_cast<unsigned char>(text[i]);
        out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
    }
    if (text.size() > limit)
        out += "...";
    return out;
}

std::string capped(std::string_view text, std::size_t limit)
{
    if (text.size() <= limit)
        return std::string(text);
    while (limit > 0 && (static_cast<unsigned char>(text[limit]) & 0xc0) == 0x80)
        --limit;
    return std::string(text.substr(0, limit)) + "...";
}

} // namespace courier::aws
