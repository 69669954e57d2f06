// The concrete inside of net::stream and net::tls_context, for the few files compiled with
// Beast and OpenSSL (net/connect.cpp, net/tls_context.cpp, the HTTP client's network
// connection). Everything else includes net/stream.hpp and net/tls_context.hpp only.
#ifndef COURIER_SRC_NET_STREAM_LAYERS_HPP
#define COURIER_SRC_NET_STREAM_LAYERS_HPP

#include "net/stream.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <optional>

namespace courier::net {

struct tls_context::impl
{
    boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_client};
};

using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

/// Exactly one of `plain` and `tls` is engaged.
struct stream::layers
{
    std::optional<boost::beast::tcp_stream> plain;
    std::optional<tls_stream> tls;
    /// Keeps the SSL_CTX that `tls` refers to alive.
    std::shared_ptr<const tls_context> context;

    boost::beast::tcp_stream& tcp() noexcept { return tls ? tls->next_layer() : *plain; }
};

} // namespace courier::net

#endif
