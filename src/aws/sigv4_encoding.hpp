// The characters and encodings of SigV4's canonical form, for the signer (sigv4.cpp): which
// bytes are unreserved, HTTP tokens or control characters, case-insensitive comparison of
// header names, and the percent-encoding of paths and query parameters. Inline: the signer
// runs them over every byte of every request it signs. Internal to src/aws.
#ifndef COURIER_SRC_AWS_SIGV4_ENCODING_HPP
#define COURIER_SRC_AWS_SIGV4_ENCODING_HPP

#include "courier/error.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace courier::aws::sigv4_encoding {

inline void write_digits(char* out, unsigned value, int width) noexcept
{
    for (int i = width - 1; i >= 0; --i, value /= 10)
        out[i] = static_cast<char>('0' + value % 10);
}

inline bool is_alnum(unsigned char c) noexcept
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool is_unreserved(unsigned char c) noexcept
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
inline bool is_token(std::string_view s) noexcept // an HTTP token (RFC 9110): method, header name
{
    constexpr std::string_view symbols = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [symbols](unsigned char c) {
        return is_alnum(c) || symbols.find(static_cast<char>(c)) != symbols.npos;
    });
}
inline bool has_control(std::string_view s) noexcept // CR, LF, NUL... would split or end a header
{
    return std::any_of(s.begin(), s.end(), [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}
inline char to_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return to_lower(x) == to_lower(y); });
}
inline bool iless(std::string_view a, std::string_view b) noexcept
{
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return static_cast<unsigned char>(to_lower(x)) < static_cast<unsigned char>(to_lower(y));
    });
}

// Percent-encodes every byte but the unreserved characters and those in `keep`.
inline void append_encoded(std::string& out, std::string_view s, std::string_view keep = {})
{
    for (unsigned char c : s)
    {
        if (is_unreserved(c) || keep.find(static_cast<char>(c)) != keep.npos)
        {
            out += static_cast<char>(c);
        }
        else
        {
            out += '%';
            out += "0123456789ABCDEF"[c >> 4];
            out += "0123456789ABCDEF"[c & 15];
        }
    }
}

inline int hex_value(char c) noexcept
{
    c = to_lower(c);
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// A query name or value is decoded, then encoded, so raw input ("ሴ") and already-encoded
// input ("%E1%88%B4") give the same canonical form, as the receiving service computes it.
// '+' is a literal plus (sent as %2B), not a space.
inline void append_query_encoded(std::string& out, std::string_view s)
{
    for (std::size_t i = 0; i < s.size(); ++i)
    {
        char c = s[i];
        if (c == '%')
        {
            const int hi = s.size() - i >= 3 ? hex_value(s[i + 1]) : -1;
            const int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (lo < 0)
                throw error(errc::bad_configuration, "query string has a malformed percent escape");
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        append_encoded(out, std::string_view(&c, 1));
    }
}

} // namespace courier::aws::sigv4_encoding

#endif
