// The byte-level encodings of the SQS protocol: JSON string escaping with UTF-8 validation,
// base64 for binary attributes, and the MD5 digests SQS reports for bodies and attributes.
//
// Why our own escaper rather than Boost.JSON's serializer: rendering runs for every receive,
// acknowledgement batch and heartbeat, thousands of times a second, and what it needs is small
// (escape '"', '\\' and bytes below 0x20; reject invalid UTF-8). Boost.JSON would cost its
// `src.hpp` compile (seconds, in one TU) and a copy into its own `json::string`, and it does
// not validate UTF-8, so a validator would be needed anyway. simdjson 3.0.1 has no public
// escaper, and calling its `validate_utf8` before escaping was a second pass whose dispatch
// cost more than the escaping itself for the short strings that dominate (URLs, receipt
// handles). So one pass does both: eight ASCII bytes that need no escape are skipped with a
// few word operations, and any other byte is escaped or decoded as a UTF-8 sequence. The tests
// compare it byte by byte with a naive escaper, and its validation with simdjson's.
#include "protocol.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace courier::sqs {

namespace {

constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// Can all eight bytes of `w` be copied as they are: ASCII, not below 0x20, not '"' or '\\'?
// The usual SWAR tests: (x - 0x01..) & ~x & 0x80.. is non-zero iff some byte of x is zero, and
// with 0x20.. iff some byte is below 0x20 (bytes >= 0x80 are caught by the plain high-bit test).
bool plain_ascii(std::uint64_t w) noexcept
{
    const std::uint64_t quote = w ^ (ones * '"');
    const std::uint64_t backslash = w ^ (ones * '\\');
    const std::uint64_t below_space = (w - ones * 0x20) & ~w;
    const std::uint64_t is_quote = (quote - ones) & ~quote;
    const std::uint64_t is_backslash = (backslash - ones) & ~backslash;
    return ((w | below_space | is_quote | is_backslash) & highs) == 0;
}

// Length of the well-formed UTF-8 sequence starting at the non-ASCII byte `p`, or 0 if it is
// not one (a stray continuation byte, a truncated or overlong form, a UTF-16 surrogate, a
// value past U+10FFFF).
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) noexcept
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
    if (code_point < smallest || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff))
        return 0;
    return length;
}

void append_escape(std::string& out, unsigned char c)
{
    switch (c)
    {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default:
    {
        constexpr char hex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out.append(escaped, sizeof escaped);
    }
    }
}

// MD5 through an OpenSSL 3 EVP context. The algorithm is fetched once per thread: the implicit
// fetch behind EVP_md5() costs a lookup on every call, which we would pay per message.
class md5_hasher
{
public:
    using digest = std::array<unsigned char, 16>;

    md5_hasher() : md_(EVP_MD_fetch(nullptr, "MD5", nullptr)), context_(EVP_MD_CTX_new())
    {
        if (!md_ || !context_)
            throw courier::error(errc::bad_configuration,
                                 "MD5 is not available from OpenSSL (a FIPS-only provider?); "
                                 "turn off MD5 verification");
    }

    digest of(std::string_view bytes)
    {
        digest out{};
        unsigned int size = 0;
        if (EVP_DigestInit_ex2(context_.get(), md_.get(), nullptr) != 1 ||
            EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1 ||
            EVP_DigestFinal_ex(context_.get(), out.data(), &size) != 1)
            throw courier::error(errc::bad_configuration, "OpenSSL failed to compute an MD5");
        return out;
    }

    // Scratch for the attribute encoding: hashing it in one update is cheaper than the dozen
    // small updates it is made of.
    std::string scratch;

private:
    struct free_md
    {
        void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
    };
    struct free_context
    {
        void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
    };
    std::unique_ptr<EVP_MD, free_md> md_;
    std::unique_ptr<EVP_MD_CTX, free_context> context_;
};

md5_hasher& hasher()
{
    thread_local md5_hasher instance;
    return instance;
}

md5_hasher::digest body_digest(std::string_view body)
{
    return hasher().of(body);
}

// Length as 4 bytes big-endian, then the bytes: SQS's encoding in the attribute digest.
void append_prefixed(std::string& out, std::string_view bytes)
{
    const auto n = static_cast<std::uint32_t>(bytes.size());
    const char length[] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                           static_cast<char>(n >> 8), static_cast<char>(n)};
    out.append(length, sizeof length);
    out.append(bytes);
}

md5_hasher::digest attributes_digest(const attribute_map& attributes)
{
    md5_hasher& h = hasher();
    std::string& encoded = h.scratch;
    encoded.clear();
    for (const auto& [name, attribute] : attributes) // std::map: sorted by name, as required
    {
        append_prefixed(encoded, name);
        append_prefixed(encoded, attribute.data_type);
        encoded += detail::is_binary_type(attribute.data_type) ? '\2' : '\1'; // transport type
        append_prefixed(encoded, attribute.value);
    }
    return h.of(encoded);
}

std::string to_hex(const md5_hasher::digest& digest)
{
    constexpr char hex[] = "0123456789abcdef";
    std::string out(32, '0');
    for (std::size_t i = 0; i < digest.size(); ++i)
    {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    return out;
}

// Compares with the hex digits SQS sent, in either case, without building a string.
bool matches(const md5_hasher::digest& digest, std::string_view hex)
{
    if (hex.size() != 2 * digest.size())
        return false;
    constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < hex.size(); ++i)
    {
        const char c = hex[i] >= 'A' && hex[i] <= 'F' ? static_cast<char>(hex[i] - 'A' + 'a')
                                                       : hex[i];
        const unsigned char nibble = i % 2 == 0 ? digest[i / 2] >> 4 : digest[i / 2] & 0xf;
        if (c != digits[nibble])
            return false;
    }
    return true;
}

} // namespace

std::string md5_of_body(std::string_view body)
{
    return to_hex(body_digest(body));
}

std::string md5_of_attributes(const attribute_map& attributes)
{
    return to_hex(attributes_digest(attributes));
}

namespace detail {

std::size_t first_invalid_utf8(std::string_view value) noexcept
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

bool is_binary_type(std::string_view data_type) noexcept
{
    return data_type.starts_with("Binary") && (data_type.size() == 6 || data_type[6] == '.');
}

void append_base64(std::string& out, std::string_view bytes)
{
    constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    std::size_t at = out.size();
    out.resize(at + (n + 2) / 3 * 4);
    char* o = out.data() + at;
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3)
    {
        const std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (n - i == 1)
    {
        const std::uint32_t v = in[i] << 16;
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    }
    else if (n - i == 2)
    {
        const std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = '=';
    }
}

std::optional<std::string> decode_base64(std::string_view text)
{
    constexpr auto table = [] {
        std::array<signed char, 256> t{};
        t.fill(-1);
        constexpr std::string_view alphabet =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (std::size_t i = 0; i < alphabet.size(); ++i)
            t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
        return t;
    }();
    if (text.size() % 4 == 0 && text.ends_with('='))
        text.remove_suffix(text.ends_with("==") ? 2 : 1);
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text)
    {
        const signed char value = table[static_cast<unsigned char>(c)];
        if (value < 0)
            return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        if (++count == 4)
        {
            out += static_cast<char>(bits >> 16);
            out += static_cast<char>(bits >> 8);
            out += static_cast<char>(bits);
            bits = 0;
            count = 0;
        }
    }
    if (count == 2)
        out += static_cast<char>(bits >> 4);
    else if (count == 3)
        out += static_cast<char>(bits >> 10), out += static_cast<char>(bits >> 2);
    return out;
}

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

// Cuts untrusted server text to `limit` bytes without splitting a UTF-8 sequence.
std::string capped(std::string_view text, std::size_t limit)
{
    if (text.size() <= limit)
        return std::string(text);
    while (limit > 0 && (static_cast<unsigned char>(text[limit]) & 0xc0) == 0x80)
        --limit;
    return std::string(text.substr(0, limit)) + "...";
}

bool md5_matches(std::string_view bytes, std::string_view hex)
{
    return matches(hasher().of(bytes), hex);
}

bool attributes_md5_matches(const attribute_map& attributes, std::string_view hex)
{
    return matches(attributes_digest(attributes), hex);
}

} // namespace detail

} // namespace courier::sqs

namespace courier::detail {

std::size_t append_json_string(std::string& out, std::string_view value)
{
    const auto* const begin = reinterpret_cast<const unsigned char*>(value.data());
    const auto* const end = begin + value.size();
    const auto* p = begin;
    const auto* run = p; // start of the bytes not yet copied
    out.reserve(out.size() + value.size() + 2);
    out += '"';
    while (p != end)
    {
        if (end - p >= 8)
        {
            std::uint64_t word;
            std::memcpy(&word, p, 8);
            if (sqs::plain_ascii(word))
            {
                p += 8;
                continue;
            }
        }
        const unsigned char c = *p;
        if (c >= 0x80)
        {
            const std::size_t length = sqs::utf8_sequence(p, end);
            if (length == 0)
                return static_cast<std::size_t>(p - begin);
            p += length;
        }
        else if (c >= 0x20 && c != '"' && c != '\\')
        {
            ++p;
        }
        else
        {
            out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(p));
            sqs::append_escape(out, c);
            run = ++p;
        }
    }
    out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(p));
    out += '"';
    return std::string_view::npos;
}

} // namespace courier::detail
