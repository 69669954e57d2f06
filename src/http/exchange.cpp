// What a failed exchange means: the error's kind and description, and whether the peer had
// closed the connection before reading the request.
#include "http/connection.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace courier::http {

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

// The failures that mean "the server closed this idle connection before reading from it".
bool is_stale(const boost::system::error_code& ec)
{
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
           ec == asio::ssl::error::stream_truncated;
}

} // namespace

void describe_failure(exchange_result& out, bool got_bytes, const response_limits& limits,
                      std::chrono::milliseconds timeout)
{
    const boost::system::error_code& ec = out.ec;
    const std::string step = out.writing ? "write" : "read";
    out.stale = !got_bytes && is_stale(ec);
    out.code = errc::transport_failed;
    if (ec == boost::beast::error::timeout)
        out.what = step + " timeout after " + std::to_string(timeout.count()) + " ms";
    else if (ec == bhttp::error::body_limit)
    {
        out.code = errc::bad_response;
        out.what = "response body exceeds the limit of " + std::to_string(limits.max_body) + " bytes";
    }
    else if (ec == bhttp::error::header_limit)
    {
        out.code = errc::bad_response;
        out.what = "response header exceeds the limit of " + std::to_string(limits.max_header) + " bytes";
    }
    // Other parser errors mean the bytes were not HTTP; EOF in any form is the transport.
    else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
    {
        out.code = errc::bad_response;
        out.what = "malformed HTTP response: " + ec.message();
    }
    else
        out.what = step + " failed: " + ec.message();
}

} // namespace courier::http
