// HTTP requests and responses as courier's HTTP client takes and returns them: plain structs
// with the whole body in a string. AWS query and JSON APIs exchange small documents, and
// keeping Beast out of these types keeps it out of every file that sends a request.
#ifndef COURIER_SRC_HTTP_MESSAGE_HPP
#define COURIER_SRC_HTTP_MESSAGE_HPP

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier::http {

/// Header fields in the order they are sent or were received.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A request as the caller builds it. `Host` and `Content-Length` are added by the client
/// (a `Host` given here is sent instead of the endpoint's).
struct request
{
    // Declared so that `request` is not an aggregate: GCC 12 miscompiles a brace-initialized
    // aggregate holding strings that is passed by value in a co_await expression
    // (`co_await c.send(request{...})` frees a pointer into the caller's frame; see
    // chriskohlhoff/asio#1073). A class with a constructor is copied correctly.
    request() = default;

    std::string method = "POST";
    std::string target = "/"; ///< origin-form: path and query
    header_list headers;
    std::string body;
};

/// A complete response. Any status is a response; only transport and protocol failures
/// are errors.
struct response
{
    unsigned status = 0;
    header_list headers;
    std::string body;

    /// The first field called `name` (compared case-insensitively), or empty.
    std::string_view header(std::string_view name) const noexcept;
};

/// ASCII case-insensitive equality, as header field names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

} // namespace courier::http

#endif
