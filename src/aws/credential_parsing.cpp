// ISO 8601 times, form encoding, the credential JSON of the container and EC2 metadata
// endpoints (simdjson DOM) and a small XML reader for STS responses.
//
// Why our own XML reader: STS answers with a flat, well-known document, and an XML library
// would be a new dependency with a much larger attack surface (entity expansion, external
// entities). The reader only walks tags and text; it refuses DOCTYPE so no entity can be
// declared, and decodes only the five predefined entities and character references.
#include "aws/credential_parsing.hpp"

#include "courier/error.hpp"

#include <simdjson.h>

#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace courier::aws {

namespace chr = std::chrono;

// ---------------------------------------------------------------------------------------
// Times and encoding.

namespace {

// Reads `n` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept
{
    if (pos + n > s.size())
        return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
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
    if (!read_digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' ||
        !read_digits(s, 5, 2, month) || s[7] != '-' || !read_digits(s, 8, 2, day) ||
        (s[10] != 'T' && s[10] != 't') || !read_digits(s, 11, 2, hour) || s[13] != ':' ||
        !read_digits(s, 14, 2, minute) || s[16] != ':' || !read_digits(s, 17, 2, second))
        return std::nullopt;

    std::size_t pos = 19;
    chr::nanoseconds fraction{0};
    if (pos < s.size() && s[pos] == '.') {
        const std::size_t start = ++pos;
        std::int64_t scale = 100'000'000;
        for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
            fraction += chr::nanoseconds((s[pos] - '0') * scale);
            scale /= 10;
        }
        if (pos == start)
            return std::nullopt;
    }

    chr::minutes offset{0};
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
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
    } else {
        return std::nullopt; // a time without a zone is ambiguous
    }
    if (pos != s.size())
        return std::nullopt;

    const chr::year_month_day date{chr::year(year), chr::month(static_cast<unsigned>(month)),
                                   chr::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    second = std::min(second, 59); // a leap second: one second early is close enough
    const auto t = chr::sys_days(date) + chr::hours(hour) + chr::minutes(minute) +
                   chr::seconds(second) + fraction - offset;
    return chr::time_point_cast<chr::system_clock::duration>(t);
}

std::string format_iso8601(chr::system_clock::time_point t)
{
    const auto secs = chr::floor<chr::seconds>(t);
    const auto days = chr::floor<chr::days>(secs);
    const chr::year_month_day date(days);
    const chr::hh_mm_ss<chr::seconds> time(secs - days);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                       time.hours().count(), time.minutes().count(), time.seconds().count());
}

std::string form_encode(std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
    }
    return out;
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
    if (const std::string expiration = field("Expiration"); !expiration.empty()) {
        creds.expiration = parse_iso8601(expiration);
        if (!creds.expiration)
            fail("has an Expiration that is not an ISO 8601 time");
    }
    return creds;
}

// ---------------------------------------------------------------------------------------
// XML (STS).

namespace {

[[noreturn]] void bad_xml(std::string_view problem)
{
    throw error(errc::bad_response, fmt::format("malformed XML: {}", problem));
}

void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        bad_xml("invalid character reference");
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Appends character data, decoding entities and character references.
void append_text(std::string& out, std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '&') {
            out += text[i++];
            continue;
        }
        const auto semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 12)
            bad_xml("unterminated entity");
        const std::string_view name = text.substr(i + 1, semi - i - 1);
        i = semi + 1;
        if (name == "lt") out += '<';
        else if (name == "gt") out += '>';
        else if (name == "amp") out += '&';
        else if (name == "quot") out += '"';
        else if (name == "apos") out += '\'';
        else if (name.size() > 1 && name[0] == '#') {
            const bool hex = name[1] == 'x' || name[1] == 'X';
            const std::string_view digits = name.substr(hex ? 2 : 1);
            if (digits.empty())
                bad_xml("invalid character reference");
            std::uint32_t cp = 0;
            for (const char c : digits) {
                int d = -1;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
                if (d < 0 || cp > 0x10FFFF)
                    bad_xml("invalid character reference");
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
            }
            append_utf8(out, cp);
        } else {
            bad_xml("unknown entity");
        }
    }
}

std::string_view local_name(std::string_view qualified) noexcept
{
    const auto colon = qualified.find(':');
    return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

} // namespace

std::optional<xml_fields> xml_leaf_children(std::string_view xml, std::string_view parent)
{
    std::vector<std::string_view> open; // local names of the open elements
    std::optional<xml_fields> fields;
    std::size_t parent_depth = 0; // open.size() while directly inside `parent`; 0: not found
    bool leaf = false;            // the child being read has held no element so far
    std::string text;             // its text

    auto in_child = [&] { return parent_depth != 0 && open.size() == parent_depth + 1; };
    std::size_t pos = 0;
    while (pos < xml.size()) {
        const auto lt = xml.find('<', pos);
        if (in_child() && leaf)
            append_text(text, xml.substr(pos, lt == std::string_view::npos ? lt : lt - pos));
        if (lt == std::string_view::npos)
            break;
        const std::string_view rest = xml.substr(lt);
        auto skip_to = [&](std::string_view close, std::size_t from) {
            const auto end = xml.find(close, from);
            if (end == std::string_view::npos)
                bad_xml("unterminated comment, CDATA or processing instruction");
            return end;
        };
        if (rest.starts_with("<!--")) {
            pos = skip_to("-->", lt + 4) + 3;
            continue;
        }
        if (rest.starts_with("<![CDATA[")) {
            const auto end = skip_to("]]>", lt + 9);
            if (in_child() && leaf)
                text.append(xml.substr(lt + 9, end - lt - 9));
            pos = end + 3;
            continue;
        }
        if (rest.starts_with("<?")) {
            pos = skip_to("?>", lt + 2) + 2;
            continue;
        }
        if (rest.starts_with("<!"))
            bad_xml("DOCTYPE declarations are not accepted");

        // A start or end tag: find its '>', which may not sit inside a quoted attribute value.
        std::size_t gt = lt + 1;
        for (char quote = 0; gt < xml.size(); ++gt) {
            const char c = xml[gt];
            if (quote != 0) {
                if (c == quote)
                    quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '>') {
                break;
            }
        }
        if (gt >= xml.size())
            bad_xml("unterminated tag");
        std::string_view tag = xml.substr(lt + 1, gt - lt - 1);
        pos = gt + 1;
        const bool closing = tag.starts_with('/');
        const bool empty = !closing && tag.ends_with('/');
        if (closing)
            tag.remove_prefix(1);
        if (empty)
            tag.remove_suffix(1);
        const std::string_view name = local_name(tag.substr(0, tag.find_first_of(" \t\r\n")));
        if (name.empty())
            bad_xml("tag without a name");

        if (closing) {
            if (open.empty() || open.back() != name)
                bad_xml("mismatched end tag");
            if (in_child() && leaf)
                (*fields)[std::string(name)] = std::move(text);
            open.pop_back();
            if (parent_depth != 0 && open.size() < parent_depth)
                return fields; // `parent` closed
            continue;
        }
        if (in_child())
            leaf = false; // the child holds an element: not a leaf
        if (empty) {
            if (parent_depth == 0 && name == parent)
                return xml_fields{};
            if (parent_depth != 0 && open.size() == parent_depth)
                (*fields)[std::string(name)] = std::string();
            continue;
        }
        open.push_back(name);
        if (parent_depth == 0 && name == parent) {
            parent_depth = open.size();
            fields.emplace();
        } else if (in_child()) {
            leaf = true;
            text.clear();
        }
    }
    if (!open.empty())
        bad_xml("document ends inside an element");
    return std::nullopt;
}

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
    try {
        sts_error out;
        if (auto fields = xml_leaf_children(xml, "Error")) {
            if (auto it = fields->find("Code"); it != fields->end())
                out.code = std::move(it->second);
            if (auto it = fields->find("Message"); it != fields->end())
                out.message = std::move(it->second);
        }
        return out;
    } catch (...) {
        return {};
    }
}

} // namespace courier::aws
