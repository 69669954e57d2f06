// Where an HTTP client connects, parsed from a URL. Signing needs `host_header`: it is the
// exact Host value the client sends, so SigV4 can sign what goes on the wire.
#ifndef COURIER_SRC_HTTP_ENDPOINT_HPP
#define COURIER_SRC_HTTP_ENDPOINT_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace courier::http {

/// Parsed from a URL such as `https://sqs.us-east-1.amazonaws.com`, `http://127.0.0.1:4566`
/// or `http://169.254.169.254/latest/api/token`.
struct endpoint
{
    std::string scheme;      ///< "http" or "https"
    std::string host;        ///< name (lower case) or address to connect to; IPv6 without brackets
    std::uint16_t port = 0;  ///< explicit port, else 80 or 443
    std::string host_header; ///< Host value: host (IPv6 bracketed), ":port" unless the default
    std::string path = "/";  ///< the URL's path and query, "/" if empty (not used by the client)

    bool tls() const noexcept { return scheme == "https"; }

    /// Parses an absolute http or https URL.
    /// Throws `courier::error` (errc::bad_configuration) if the URL is malformed, has another
    /// scheme, no host, user information, a fragment or an invalid port.
    static endpoint parse(std::string_view url);
};

} // namespace courier::http

#endif
