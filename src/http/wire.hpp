// A request as it goes on the wire: the head rendered into one string, the body sent as it
// is. Beast's serializer would first copy every field into its own allocated node, then walk
// them with a buffer-sequence machinery that costs more than the request itself.
#ifndef COURIER_SRC_HTTP_WIRE_HPP
#define COURIER_SRC_HTTP_WIRE_HPP

#include "http/endpoint.hpp"
#include "http/message.hpp"

#include <string>

namespace courier::http {

struct wire_request
{
    std::string head; ///< request line and header fields, up to the empty line
    std::string body;
    bool head_only_response = false; ///< a HEAD request: the response has no body
};

/// Renders `req` (its body is moved out) with the Host of `remote` unless it has its own,
/// and a Content-Length for any body and for the methods that expect one.
/// Throws std::invalid_argument if the method, target or a header field is empty or holds
/// CR or LF (which would let a value inject header lines), or the method or target a space.
wire_request to_wire(request& req, const endpoint& remote);

} // namespace courier::http

#endif
