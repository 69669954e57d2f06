// Broker URL parsing with Boost.URL (see url.hpp).
#include "broker/url.hpp"

#include "courier/error.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace courier::broker {
namespace {

// The URL with its user information cut out, so that no error quotes a password.
std::string without_userinfo(std::string_view url)
{
    auto scheme_end = url.find("://");
    auto at = url.find('@');
    if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end)
        return std::string(url);
    return std::string(url.substr(0, scheme_end + 3)) + "***@" + std::string(url.substr(at + 1));
}

} // namespace

address parse_url(std::string_view url, std::string_view scheme, std::uint16_t default_port)
{
    auto bad = [&](const std::string& why) {
        return courier::error(errc::bad_configuration,
                              "bad " + std::string(scheme) + " URL '" + without_userinfo(url) + "': " + why);
    };
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        throw bad("not a URL (" + parsed.error().message() + ")");
    const boost::urls::url_view& u = *parsed;
    if (u.scheme() != scheme)
        throw bad("the scheme must be " + std::string(scheme) + "://");
    if (!u.has_authority() || u.host().empty())
        throw bad("no host");
    if (u.has_query() || u.has_fragment())
        throw bad("a query or fragment is not allowed");
    address a;
    a.host = u.host_name().empty() ? std::string(u.encoded_host_address()) : u.host_name();
    if (u.host_type() == boost::urls::host_type::ipv6)
        a.host = u.host_ipv6_address().to_string();
    else if (u.host_type() == boost::urls::host_type::ipv4)
        a.host = u.host_ipv4_address().to_string();
    a.port = default_port;
    if (u.has_port())
    {
        auto p = u.port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
        if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value == 0 || value > 65535)
            throw bad("port must be 1-65535");
        a.port = static_cast<std::uint16_t>(value);
    }
    if (u.has_userinfo())
    {
        a.has_user = true;
        a.user = u.user();
        a.password = u.password();
    }
    auto segments = u.segments();
    if (u.encoded_path().empty() || u.encoded_path() == "/")
        a.virtual_host = "/";
    else if (segments.size() == 1)
        a.virtual_host = *segments.begin(); // percent-decoded: "%2F" is "/"
    else
        throw bad("the path must be one virtual host name (a bare '/' for the default vhost '/')");
    if (a.virtual_host.empty())
        throw bad("empty virtual host name");
    return a;
}

std::string redacted(const address& a, std::string_view scheme)
{
    std::string out = std::string(scheme) + "://";
    if (a.has_user)
        out += a.user + ":***@";
    out += a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
    out += ":" + std::to_string(a.port) + "/";
    if (a.virtual_host != "/")
        out += a.virtual_host;
    return out;
}

} // namespace courier::broker
