// Rendering a request's head.
#include "http/wire.hpp"

#include <charconv>
#include <stdexcept>

namespace courier::http {

wire_request to_wire(request& req, const endpoint& remote)
{
    auto bad = [](std::string_view s) { return s.find_first_of("\r\n") != s.npos; };
    if (bad(req.method) || bad(req.target) || req.method.empty() || req.target.empty() ||
        req.method.find(' ') != std::string::npos || req.target.find(' ') != std::string::npos)
        throw std::invalid_argument("courier::http: invalid method or target");
    wire_request m;
    std::size_t size = req.method.size() + req.target.size() + remote.host_header.size() + 64;
    for (const auto& [name, value] : req.headers)
        size += name.size() + value.size() + 4;
    m.head.reserve(size);
    m.head.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (const auto& [name, value] : req.headers)
    {
        if (bad(name) || bad(value) || name.empty())
            throw std::invalid_argument("courier::http: invalid header field");
        has_host = has_host || iequals(name, "host");
        m.head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host)
        m.head.append("Host: ").append(remote.host_header).append("\r\n");
    // As Beast's prepare_payload: a length for any body, and for the methods that expect one.
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "OPTIONS")
    {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, req.body.size()).ptr;
        m.head.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    m.head.append("\r\n");
    m.body = std::move(req.body);
    m.head_only_response = req.method == "HEAD";
    return m;
}

} // namespace courier::http
