// Header lookup on responses.
#include "http/message.hpp"

#include <algorithm>
#include <cctype>

namespace courier::http {

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::string_view response::header(std::string_view name) const noexcept
{
    for (const auto& [key, value] : headers)
        if (iequals(key, name))
            return value;
    return {};
}

} // namespace courier::http
