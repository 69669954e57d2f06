// Endpoint URLs, parsed with Boost.URL.
#include "http/endpoint.hpp"

#include <courier/error.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace courier::http {

namespace {

[[noreturn]] void bad_url(std::string_view url, std::string_view why)
{
    // A URL with '@' may carry a password (even a malformed one), so it is not echoed.
    std::string text = "invalid endpoint URL";
    if (url.find('@') == std::string_view::npos)
        text.append(" '").append(url).append("'");
    throw error(errc::bad_configuration, text.append(": ").append(why));
}

} // namespace

endpoint endpoint::parse(std::string_view url)
{
    // "localhost:9324" parses as a URI of scheme "localhost", and "127.0.0.1:9324" not at
    // all; either way what is missing is the scheme.
    if (url.find("://") == std::string_view::npos)
        bad_url(url, fmt::format("no scheme: write http://{0} (or https://{0})", url));
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        bad_url(url, parsed.error().message());
    const boost::urls::url_view& u = *parsed;
    endpoint ep;
    if (u.scheme_id() == boost::urls::scheme::http)
    {
        ep.scheme = "http";
        ep.port = 80;
    }
    else if (u.scheme_id() == boost::urls::scheme::https)
    {
        ep.scheme = "https";
        ep.port = 443;
    }
    else
    {
        bad_url(url, "unsupported scheme '" + std::string(u.scheme()) + "' (use http or https)");
    }
    if (u.has_userinfo())
        bad_url(url, "user information is not allowed");
    if (u.has_fragment())
        bad_url(url, "a fragment is not allowed");
    const std::string_view encoded_host = u.encoded_host();
    if (encoded_host.empty())
        bad_url(url, "no host");
    if (encoded_host.find('%') != std::string_view::npos)
        bad_url(url, "percent-encoded host names are not supported");
    switch (u.host_type())
    {
    case boost::urls::host_type::name:
        ep.host = std::string(encoded_host);
        std::transform(ep.host.begin(), ep.host.end(), ep.host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6: ep.host = std::string(u.encoded_host_address()); break;
    default: bad_url(url, "unsupported host");
    }
    if (u.has_port() && !u.port().empty())
    {
        // port_number() wraps values above 65535 in Boost 1.81, so range-check the digits.
        const std::string_view digits = u.port();
        unsigned long value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
            bad_url(url, "invalid port");
        ep.port = static_cast<std::uint16_t>(value);
    }
    ep.host_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + ep.host + "]" : ep.host;
    if (ep.port != (ep.tls() ? 443 : 80))
        ep.host_header += ":" + std::to_string(ep.port);
    ep.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query())
        ep.path.append("?").append(u.encoded_query());
    return ep;
}

} // namespace courier::http
