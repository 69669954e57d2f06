// ISO 8601 times, the credential JSON of the container and EC2 metadata endpoints
// (simdjson DOM) and STS's answers, read with the small XML reader of aws/xml.hpp.
#include "aws/credential_parsing.hpp"

#include "aws/xml.hpp"
#include "courier/error.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdint>

namespace courier::aws {

namespace chr = std::chrono;

// ---------------------------------------------------------------------------------------
// Times.

namespace {

// Reads `n` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept
{
    if (pos + n > s.size())
        return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i)
    {
        if (s[i] < '0' || s[i] > '9')
            return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

} // namespace

std::optional<chr::system_clock::time_point> parse_iso8601(std::string_view s)
{
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!read_digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !read_digits(s, 5, 2, month) || s[7] != '-' ||
        !read_digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !read_digits(s, 11, 2, hour) || s[13] != ':' ||
        !read_digits(s, 14, 2, minute) || s[16] != ':' || !read_digits(s, 17, 2, second))
        return std::nullopt;

    std::size_t pos = 19;
    chr::nanoseconds fraction{0};
    if (pos < s.size() && s[pos] == '.')
    {
        const std::size_t start = ++pos;
        std::int64_t scale = 100'000'000;
        for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos)
        {
            fraction += chr::nanoseconds((s[pos] - '0') * scale);
            scale /= 10;
        }
        if (pos == start)
            return std::nullopt;
    }

    chr::minutes offset{0};
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z'))
    {
        ++pos;
    }
    else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
    {
        const int sign = s[pos] == '+' ? 1 : -1;
        int oh = 0, om = 0;
        std::size_t p = pos + 3;
        if (!read_digits(s, pos + 1, 2, oh))
            return std::nullopt;
        if (p < s.size() && s[p] == ':')
            ++p;
        if (!read_digits(s, p, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = chr::minutes(sign * (oh * 60 + om));
        pos = p + 2;
    }
    else
    {
        return std::nullopt; // a time without a zone is ambiguous
    }
    if (pos != s.size())
        return std::nullopt;

    const chr::year_month_day date{chr::year(year), chr::month(static_cast<unsigned>(month)),
                                   chr::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    second = std::min(second, 59); // a leap second: one second early is close enough
    const auto whole = chr::sys_days(date) + chr::hours(hour) + chr::minutes(minute) + chr::seconds(second) - offset;
    // system_clock counts nanoseconds in 64 bits (years 1678 to 2261 in libstdc++): converting
    // a time outside would overflow (UB; found by fuzz/fuzz_credentials with "9999-12-31").
    // A year of margin keeps the callers' arithmetic (expiry minus the refresh margin) in
    // range too. No AWS service writes such a time, so it is refused as malformed.
    constexpr auto margin = chr::days(366);
    constexpr auto earliest = chr::ceil<chr::seconds>(chr::system_clock::duration::min()) + margin;
    constexpr auto latest = chr::floor<chr::seconds>(chr::system_clock::duration::max()) - margin;
    if (whole.time_since_epoch() < earliest || whole.time_since_epoch() > latest)
        return std::nullopt;
    return chr::time_point_cast<chr::system_clock::duration>(whole) + fraction;
}

std::string format_iso8601(chr::system_clock::time_point t)
{
    const auto secs = chr::floor<chr::seconds>(t);
    const auto days = chr::floor<chr::days>(secs);
    const chr::year_month_day date(days);
    const chr::hh_mm_ss<chr::seconds> time(secs - days);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                       time.minutes().count(), time.seconds().count());
}

// ---------------------------------------------------------------------------------------
// JSON (container endpoint, EC2 instance metadata).

namespace {

[[noreturn]] void fail(std::string_view what)
{
    throw error(errc::bad_response, fmt::format("credentials response {}", what));
}

} // namespace

credentials parse_credentials_json(std::string_view body)
{
    simdjson::dom::parser parser;
    const simdjson::padded_string padded(body);
    simdjson::dom::object object;
    if (parser.parse(padded).get_object().get(object))
        fail("is not a JSON object");

    // A missing or null field reads as empty; a field of another type is an error.
    auto field = [&](const char* name) {
        simdjson::dom::element value;
        std::string_view text;
        if (object.at_key(name).get(value) || value.is_null())
            return std::string();
        if (value.get_string().get(text))
            fail(fmt::format("field {} is not a string", name));
        return std::string(text);
    };

    if (const std::string code = field("Code"); !code.empty() && code != "Success")
        fail(fmt::format("has Code '{}'", code.substr(0, 64)));
    credentials creds;
    creds.access_key_id = field("AccessKeyId");
    creds.secret_access_key = field("SecretAccessKey");
    creds.session_token = field("Token");
    if (creds.access_key_id.empty() || creds.secret_access_key.empty())
        fail("lacks AccessKeyId or SecretAccessKey");
    if (const std::string expiration = field("Expiration"); !expiration.empty())
    {
        creds.expiration = parse_iso8601(expiration);
        if (!creds.expiration)
            fail("has an Expiration that is not an ISO 8601 time");
    }
    return creds;
}

// ---------------------------------------------------------------------------------------
// STS.

credentials parse_sts_credentials(std::string_view xml)
{
    const auto fields = xml_leaf_children(xml, "Credentials");
    if (!fields)
        throw error(errc::bad_response, "STS response has no Credentials element");
    auto get = [&](std::string_view name) {
        const auto it = fields->find(name);
        if (it == fields->end() || it->second.empty())
            throw error(errc::bad_response, fmt::format("STS response lacks Credentials/{}", name));
        return it->second;
    };
    credentials creds;
    creds.access_key_id = get("AccessKeyId");
    creds.secret_access_key = get("SecretAccessKey");
    creds.session_token = get("SessionToken");
    creds.expiration = parse_iso8601(get("Expiration"));
    if (!creds.expiration)
        throw error(errc::bad_response, "STS response has an Expiration that is not ISO 8601");
    return creds;
}

sts_error parse_sts_error(std::string_view xml) noexcept
{
    try
    {
        sts_error out;
        if (auto fields = xml_leaf_children(xml, "Error"))
        {
            if (auto it = fields->find("Code"); it != fields->end())
                out.code = std::move(it->second);
            if (auto it = fields->find("Message"); it != fields->end())
                out.message = std::move(it->second);
        }
        return out;
    }
    catch (...)
    {
        return {};
    }
}

} // namespace courier::aws
