// The SigV4 signer declared in sigv4.hpp: the pieces of the canonical request (path, query,
// headers), the signing-key cache and the two flavours, `sign` (Authorization header) and
// `presign` (query string). The digests are in digests.cpp.
#include "aws/sigv4.hpp"

#include "aws/sigv4_encoding.hpp"
#include "courier/error.hpp"

#include <boost/container/small_vector.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <string>
#include <utility>

namespace courier::aws {
namespace {

using namespace std::string_view_literals;
using namespace sigv4_encoding;

[[noreturn]] void fail(std::string detail)
{
    throw error(errc::bad_configuration, std::move(detail));
}

// ---- Canonical request pieces -------------------------------------------------------------

void append_canonical_path(std::string& out, std::string_view path, const signer_options& o)
{
    const std::string_view keep = o.double_encode_path ? "/"sv : "/%"sv;
    if (!o.normalize_path)
    {
        append_encoded(out, path.empty() ? "/"sv : path, keep);
        return;
    }
    // Drop empty and "." segments, let ".." remove the previous one. A trailing slash is kept
    // only if the path ends in '/': "/a/b/.." gives "/a", as botocore and the other AWS SDKs
    // compute it (RFC 3986 would give "/a/").
    const std::size_t base = out.size();
    for (std::size_t pos = 1; pos <= path.size();)
    {
        const std::size_t end = std::min(path.find('/', pos), path.size());
        const std::string_view segment = path.substr(pos, end - pos);
        pos = end + 1;
        if (segment == "..")
        {
            const std::size_t cut = out.rfind('/');
            out.resize(cut == out.npos || cut < base ? base : cut);
        }
        else if (!segment.empty() && segment != ".")
        {
            out += '/';
            append_encoded(out, segment, keep);
        }
    }
    if (out.size() == base || path.ends_with('/'))
        out += '/';
}

// Calls `fn(name, value)` for each "name=value" item of a query; a missing '=' means an empty
// value, and empty items ("a=1&&b=2") are skipped.
template <typename Fn> void for_each_param(std::string_view query, Fn&& fn)
{
    while (!query.empty())
    {
        const std::string_view item = query.substr(0, query.find('&'));
        query.remove_prefix(std::min(item.size() + 1, query.size()));
        const std::size_t eq = std::min(item.find('='), item.size());
        if (!item.empty())
            fn(item.substr(0, eq), item.substr(std::min(eq + 1, item.size())));
    }
}

// Appends the parameters of `raw` (decoded and encoded again) and of `encoded` (already
// canonical), sorted by name then value, as "name=value" joined with '&'.
void append_canonical_query(std::string& out, std::string_view raw, std::string_view encoded)
{
    if (raw.empty() && encoded.empty())
        return;
    struct param
    {
        std::size_t begin, middle, end;
    }; // offsets of name and value in `text`
    std::string text;
    boost::container::small_vector<param, 16> params;
    for_each_param(raw, [&](std::string_view name, std::string_view value) {
        const std::size_t begin = text.size();
        append_query_encoded(text, name);
        const std::size_t middle = text.size();
        append_query_encoded(text, value);
        params.push_back({begin, middle, text.size()});
    });
    for_each_param(encoded, [&](std::string_view name, std::string_view value) {
        params.push_back({text.size(), text.size() + name.size(), 0});
        text.append(name).append(value);
        params.back().end = text.size();
    });
    const std::string_view t = text;
    auto name = [t](const param& p) { return t.substr(p.begin, p.middle - p.begin); };
    auto value = [t](const param& p) { return t.substr(p.middle, p.end - p.middle); };
    std::sort(params.begin(), params.end(), [&](const param& a, const param& b) {
        return name(a) != name(b) ? name(a) < name(b) : value(a) < value(b);
    });
    for (const param& p : params)
        out.append(&p == params.data() ? "" : "&").append(name(p)).append("=").append(value(p));
}

using header_list = boost::container::small_vector<header_field, 16>;

// Validates the caller's headers, adds the signer's own and sorts them by lowercase name. The
// sort is stable, so the values of a repeated header stay in the order given.
header_list sorted_headers(std::span<const header_field> given, std::span<const header_field> added)
{
    header_list list;
    bool has_host = false;
    for (const header_field& h : given)
    {
        if (!is_token(h.name))
            fail("request has a header name that is empty or not a valid HTTP token");
        auto reject = [&h](std::string_view own) {
            if (iequals(h.name, own))
                fail("request must not hold header " + std::string(own) + ": the signer adds it");
        };
        for (std::string_view own : {"authorization"sv, "x-amz-date"sv, "x-amz-security-token"sv})
            reject(own);
        for (const header_field& own : added)
            reject(own.name);
        has_host = has_host || iequals(h.name, "host");
        list.push_back(h);
    }
    if (!has_host)
        fail("request has no Host header, which SigV4 requires");
    list.insert(list.end(), added.begin(), added.end());
    // Insertion sort: stable, and unlike std::stable_sort it allocates nothing; a request has
    // a handful of headers.
    for (auto it = list.begin(); it != list.end(); ++it)
        std::rotate(
            std::upper_bound(list.begin(), it, *it,
                             [](const header_field& a, const header_field& b) { return iless(a.name, b.name); }),
            it, it + 1);
    return list;
}

// Appends `h.value` trimmed, each inner run of spaces and tabs as one space. Words are copied
// whole and checked for control characters on the way: this runs over every byte of the
// session token on every request.
void append_trimmed(std::string& out, const header_field& h)
{
    auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    const char* p = h.value.data();
    const char* const end = p + h.value.size();
    for (bool first = true;; first = false)
    {
        p = std::find_if_not(p, end, is_space);
        if (p == end)
            return;
        const char* const word = p;
        for (; p != end && !is_space(*p); ++p)
            if (static_cast<unsigned char>(*p) < 0x20 || *p == 0x7f)
                fail("header " + std::string(h.name) + " has a control character in its value");
        out.append(first ? "" : " ").append(word, p);
    }
}

// Appends "name:value1,value2\n" per distinct name to `out` and "name;name" to `names`.
void append_canonical_headers(std::string& out, std::string& names, const header_list& list)
{
    for (std::size_t i = 0; i < list.size();)
    {
        const std::string_view name = list[i].name;
        const std::size_t name_begin = out.size();
        std::transform(name.begin(), name.end(), std::back_inserter(out), to_lower);
        names.append(names.empty() ? "" : ";").append(out, name_begin, name.size());
        out += ':';
        for (std::size_t first = i; i < list.size() && iequals(list[i].name, name); ++i)
        {
            if (i != first)
                out += ',';
            append_trimmed(out, list[i]);
        }
        out += '\n';
    }
}

std::string_view payload_hash(const http_request& r, std::array<char, 64>& storage)
{
    if (r.payload_hash.empty())
    {
        write_hex(storage.data(), sha256(r.body));
        return {storage.data(), storage.size()};
    }
    if (r.payload_hash.size() > storage.size() || !std::all_of(r.payload_hash.begin(), r.payload_hash.end(),
                                                               [](unsigned char c) { return is_alnum(c) || c == '-'; }))
        fail("payload hash is neither a hex digest nor a SigV4 literal");
    return r.payload_hash;
}

void check_credentials(const credentials& c)
{
    if (c.access_key_id.empty() || c.secret_access_key.empty())
        throw error(errc::no_credentials, "credentials have no access key id or no secret key");
    if (c.access_key_id.find_first_of("/, ") != std::string::npos || has_control(c.access_key_id))
        fail("access key id has a character that cannot appear in a credential scope");
}

// Per-thread scratch buffers, reused so that a warmed-up thread allocates only for results.
struct scratch
{
    std::string canonical, headers, names, scope, string_to_sign;
};
thread_local scratch buffers;

// Sorts and canonicalizes the headers into `s.headers` and `s.names`, and sets `s.scope`.
scratch& start(const http_request& r, std::span<const header_field> added, std::string_view amz_date,
               const signer_options& o)
{
    scratch& s = buffers;
    s.headers.clear();
    s.names.clear();
    append_canonical_headers(s.headers, s.names, sorted_headers(r.headers, added));
    s.scope.assign(amz_date.substr(0, 8)).append("/").append(o.region).append("/");
    s.scope.append(o.service).append("/aws4_request");
    return s;
}

// Builds the canonical request and the string to sign in `s`.
void finish(scratch& s, const http_request& r, std::string_view added_query, std::string_view amz_date,
            std::string_view hash, const signer_options& o)
{
    if (!is_token(r.method))
        fail("request method is empty or not a valid HTTP token");
    if (!r.path.empty() && r.path.front() != '/')
        fail("request path must start with '/'");
    if (r.path.find_first_of("?#") != r.path.npos)
        fail("request path holds '?' or '#': pass the query separately");
    s.canonical.assign(r.method).append("\n");
    append_canonical_path(s.canonical, r.path, o);
    s.canonical += '\n';
    append_canonical_query(s.canonical, r.query, added_query);
    s.canonical.append("\n").append(s.headers).append("\n").append(s.names).append("\n");
    s.canonical += hash;
    s.string_to_sign.assign("AWS4-HMAC-SHA256\n").append(amz_date).append("\n");
    s.string_to_sign.append(s.scope).append("\n");
    append_hex(s.string_to_sign, sha256(s.canonical));
}

void fill_trace(signing_trace* trace, const scratch& s, const digest& signature)
{
    if (trace == nullptr)
        return;
    trace->canonical_request = s.canonical;
    trace->string_to_sign = s.string_to_sign;
    trace->signature = to_hex(signature);
}

} // namespace

// ---- Public functions -----------------------------------------------------------------------

std::array<char, 16> format_amz_date(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999)
        fail("request time is outside the years 0000-9999");
    std::array<char, 16> out{};
    write_digits(out.data(), static_cast<unsigned>(year), 4);
    write_digits(out.data() + 4, static_cast<unsigned>(ymd.month()), 2);
    write_digits(out.data() + 6, static_cast<unsigned>(ymd.day()), 2);
    out[8] = 'T';
    write_digits(out.data() + 9, static_cast<unsigned>(hms.hours().count()), 2);
    write_digits(out.data() + 11, static_cast<unsigned>(hms.minutes().count()), 2);
    write_digits(out.data() + 13, static_cast<unsigned>(hms.seconds().count()), 2);
    out[15] = 'Z';
    return out;
}

// ---- signer -------------------------------------------------------------------------------

signer::signer(signer_options options)
    : options_(std::move(options))
{
    auto valid = [](std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_unreserved); };
    if (!valid(options_.region) || !valid(options_.service))
        fail("SigV4 region or service is empty or has characters other than letters, digits "
             "and -._~");
}

signer::~signer()
{
    OPENSSL_cleanse(cached_key_.data(), cached_key_.size());
    OPENSSL_cleanse(cached_secret_.data(), cached_secret_.size());
}

std::uint64_t signer::key_derivations() const
{
    std::lock_guard lock(mutex_);
    return derivations_;
}

digest signer::signing_key(const credentials& creds, std::string_view amz_date) const
{
    const std::string_view date = amz_date.substr(0, 8);
    std::lock_guard lock(mutex_);
    if (derivations_ != 0 && std::string_view(cached_date_.data(), 8) == date &&
        cached_access_key_id_ == creds.access_key_id && cached_secret_ == creds.secret_access_key)
        return cached_key_;
    // Derived under the lock: at midnight the other threads wait a few microseconds instead of
    // all deriving the same key.
    cached_key_ = derive_signing_key(creds.secret_access_key, date, options_.region, options_.service);
    std::copy(date.begin(), date.end(), cached_date_.begin());
    cached_access_key_id_ = creds.access_key_id;
    cached_secret_ = creds.secret_access_key;
    ++derivations_;
    return cached_key_;
}

signed_headers signer::sign(const http_request& request, const credentials& creds,
                            std::chrono::system_clock::time_point now, signing_trace* trace) const
{
    check_credentials(creds);
    signed_headers result;
    result.amz_date_ = format_amz_date(now);
    std::array<char, 64> hash_storage;
    const std::string_view hash = payload_hash(request, hash_storage);
    if (creds.has_session_token())
        result.security_token_ = creds.session_token;

    boost::container::small_vector<header_field, 3> added{{"x-amz-date", result.amz_date()}};
    if (creds.has_session_token() && options_.sign_session_token)
        added.push_back({"x-amz-security-token", creds.session_token});
    if (options_.add_content_sha256)
    {
        std::copy(hash.begin(), hash.end(), result.content_sha256_.begin());
        result.content_sha256_size_ = hash.size();
        added.push_back({"x-amz-content-sha256", result.content_sha256()});
    }
    scratch& s = start(request, added, result.amz_date(), options_);
    finish(s, request, {}, result.amz_date(), hash, options_);
    const digest signature = hmac_sha256(signing_key(creds, result.amz_date()), s.string_to_sign);

    std::string& a = result.authorization_;
    a.reserve(128 + creds.access_key_id.size() + s.scope.size() + s.names.size());
    a.assign("AWS4-HMAC-SHA256 Credential=").append(creds.access_key_id).append("/");
    a.append(s.scope).append(", SignedHeaders=").append(s.names).append(", Signature=");
    append_hex(a, signature);
    fill_trace(trace, s, signature);
    return result;
}

std::string signer::presign(const http_request& request, const credentials& creds,
                            std::chrono::system_clock::time_point now, std::chrono::seconds expires,
                            signing_trace* trace) const
{
    check_credentials(creds);
    if (expires < std::chrono::seconds(1) || expires > std::chrono::hours(24 * 7))
        fail("presigned URL expiry must be from 1 second to 7 days");
    for_each_param(request.query, [](std::string_view name, std::string_view) {
        for (std::string_view own : {"X-Amz-Algorithm"sv, "X-Amz-Credential"sv, "X-Amz-Date"sv, "X-Amz-Expires"sv,
                                     "X-Amz-SignedHeaders"sv, "X-Amz-Security-Token"sv, "X-Amz-Signature"sv})
            if (name == own)
                fail("query must not hold " + std::string(own) + ": the signer adds it");
    });
    const std::array<char, 16> date_storage = format_amz_date(now);
    const std::string_view amz_date(date_storage.data(), date_storage.size());
    std::array<char, 64> hash_storage;
    const std::string_view hash = payload_hash(request, hash_storage);
    scratch& s = start(request, {}, amz_date, options_);

    // The parameters the signer adds, encoded, in the order they are sent.
    std::string added = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=";
    append_encoded(added, creds.access_key_id);
    added += "%2F";
    append_encoded(added, s.scope);
    added.append("&X-Amz-Date=").append(amz_date).append("&X-Amz-SignedHeaders=");
    append_encoded(added, s.names);
    added.append("&X-Amz-Expires=").append(std::to_string(expires.count()));
    std::string token; // sent after the signed parameters when it is not signed
    if (creds.has_session_token())
    {
        std::string& to = options_.sign_session_token ? added : token;
        to += "&X-Amz-Security-Token=";
        append_encoded(to, creds.session_token);
    }
    finish(s, request, added, amz_date, hash, options_);
    const digest signature = hmac_sha256(signing_key(creds, amz_date), s.string_to_sign);

    std::string query(request.query);
    query.append(query.empty() ? "" : "&").append(added).append(token);
    query += "&X-Amz-Signature=";
    append_hex(query, signature);
    fill_trace(trace, s, signature);
    return query;
}

} // namespace courier::aws
