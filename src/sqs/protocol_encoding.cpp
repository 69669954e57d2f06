// The byte-level encodings of the SQS protocol: JSON string escaping with UTF-8 validation,
// and the MD5 digests SQS reports for bodies and attributes.
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
#include "aws/binary_attributes.hpp"
#include "aws/utf8.hpp"
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

    md5_hasher()
        : md_(EVP_MD_fetch(nullptr, "MD5", nullptr)),
          context_(EVP_MD_CTX_new())
    {
        if (!md_ || !context_)
            throw courier::error(errc::bad_configuration, "MD5 is not available from OpenSSL (a FIPS-only provider?); "
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
    const char length[] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                           static_cast<char>(n)};
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
        encoded += aws::is_binary_type(attribute.data_type) ? '\2' : '\1'; // transport type
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
        const char c = hex[i] >= 'A' && hex[i] <= 'F' ? static_cast<char>(hex[i] - 'A' + 'a') : hex[i];
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
            const std::size_t length = aws::utf8_sequence(p, end);
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
