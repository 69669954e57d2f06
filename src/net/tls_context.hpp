// The TLS client settings one client shares between its connections: TLS 1.2 or newer, the
// trusted certificate authorities (loaded once: reading the system store takes milliseconds),
// and whether the server's certificate chain and host name are verified.
//
// Opaque here, so that code which only connects (see net/connect.hpp) compiles without
// OpenSSL's headers; net/stream_layers.hpp holds the definition for the code that needs it.
#ifndef COURIER_SRC_NET_TLS_CONTEXT_HPP
#define COURIER_SRC_NET_TLS_CONTEXT_HPP

#include <memory>
#include <string>
#include <string_view>

namespace courier::net {

/// Immutable once made; share it (std::shared_ptr<const tls_context>) between connections.
///
/// Thread safety: distinct and shared objects are safe (OpenSSL's SSL_CTX is only read once
/// connections exist).
class tls_context
{
public:
    struct options
    {
        /// PEM file of trusted certificate authorities. Empty: the system store.
        std::string ca_file;
        /// Verify the server's certificate chain and host name. Turn off only for local test
        /// servers.
        bool verify_peer = true;
    };

    /// Throws `courier::error` (errc::bad_configuration) naming `who` (the endpoint the
    /// settings are for) and the CA file if the trusted certificates cannot be loaded.
    tls_context(const options& o, std::string_view who);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    bool verify_peer() const noexcept { return verify_peer_; }

    struct impl;
    impl& get() const noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
    bool verify_peer_;
};

} // namespace courier::net

#endif
