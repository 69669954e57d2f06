// TLS client settings: TLS 1.2 or newer, no compression, and the trusted certificates.
#include "net/stream_layers.hpp"

#include <courier/error.hpp>

#include <openssl/ssl.h>

namespace courier::net {

tls_context::tls_context(const options& o, std::string_view who)
    : impl_(std::make_unique<impl>()),
      verify_peer_(o.verify_peer)
{
    namespace ssl = boost::asio::ssl;
    ssl::context& ctx = impl_->ctx;
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (!o.verify_peer)
    {
        ctx.set_verify_mode(ssl::verify_none);
        return;
    }
    ctx.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (o.ca_file.empty())
        ctx.set_default_verify_paths(ec);
    else
        ctx.load_verify_file(o.ca_file, ec);
    if (ec)
        throw error(errc::bad_configuration,
                    std::string(who) + ": cannot load CA " +
                        (o.ca_file.empty() ? std::string("system store") : "file '" + o.ca_file + "'") + ": " +
                        ec.message());
}

tls_context::~tls_context() = default;

} // namespace courier::net
