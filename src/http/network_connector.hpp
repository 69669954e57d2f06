// The connector HTTP clients use unless told otherwise: TCP, or TLS for https, through
// net::connect, with each exchange run by Beast over the concrete stream.
#ifndef COURIER_SRC_HTTP_NETWORK_CONNECTOR_HPP
#define COURIER_SRC_HTTP_NETWORK_CONNECTOR_HPP

#include "http/connection.hpp"
#include "net/tls_context.hpp"

#include <memory>

namespace courier::http {

/// Connects to endpoints with `tls` (null: plain TCP only; an https endpoint then fails to
/// connect with errc::transport_failed).
std::shared_ptr<connector> make_network_connector(std::shared_ptr<const net::tls_context> tls);

} // namespace courier::http

#endif
