// net::connect and the type-erased operations of net::stream: the one place that resolves,
// connects and shakes hands, compiled with Beast's tcp_stream and Asio's SSL support (the
// stream's members live here too, so those headers cost one translation unit, not two).
#include "net/connect.hpp"

#include "net/stream_layers.hpp"

#include <courier/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace courier::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

bool is_address(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// A step that failed because the awaiting coroutine was cancelled is a cancellation, not a
// transport failure.
asio::awaitable<void> throw_if_cancelled()
{
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
        throw boost::system::system_error(asio::error::operation_aborted);
}

// Wraps Asio's host-name check to record *why* verification failed, so the handshake error
// says "hostname mismatch" instead of a bare "certificate verify failed".
struct verify_host
{
    std::string host;
    bool address;

    bool operator()(bool preverified, ssl::verify_context& ctx) const
    {
        if (ssl::host_name_verification(host)(preverified, ctx))
            return true;
        if (preverified)
            X509_STORE_CTX_set_error(ctx.native_handle(),
                                     address ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
        return false;
    }
};

} // namespace

asio::awaitable<stream> connect(asio::any_io_executor executor, connect_options options)
{
    const std::string who = options.name.empty() ? options.host + ":" + std::to_string(options.port) : options.name;
    auto fail = [&who](const std::string& what) { throw error(errc::transport_failed, who + ": " + what); };
    const bool address = is_address(options.host);

    auto layers = std::make_unique<stream::layers>();
    if (options.tls)
    {
        layers->context = options.tls;
        layers->tls.emplace(executor, options.tls->get().ctx);
    }
    else
    {
        layers->plain.emplace(executor);
    }

    tcp::resolver resolver(executor);
    const auto flags =
        address ? tcp::resolver::numeric_host | tcp::resolver::numeric_service : tcp::resolver::numeric_service;
    auto [rec, results] = co_await resolver.async_resolve(options.host, std::to_string(options.port), flags, nothrow);
    if (rec)
    {
        co_await throw_if_cancelled();
        fail("resolve failed: " + rec.message());
    }

    const std::string deadline = std::to_string(options.timeout.count()) + " ms";
    if (options.timeout.count() > 0)
        layers->tcp().expires_after(options.timeout);
    auto [cec, peer] = co_await layers->tcp().async_connect(results, nothrow);
    if (cec)
    {
        co_await throw_if_cancelled();
        if (cec == beast::error::timeout)
            fail("connect timeout after " + deadline);
        fail("connect failed: " + cec.message());
    }

    if (layers->tls)
    {
        // SNI carries host names only (RFC 6066 forbids addresses).
        if (!address && SSL_set_tlsext_host_name(layers->tls->native_handle(), options.host.c_str()) != 1)
            fail("TLS: cannot set server name");
        if (options.tls->verify_peer())
            layers->tls->set_verify_callback(verify_host{options.host, address});
        auto [hec] = co_await layers->tls->async_handshake(ssl::stream_base::client, nothrow);
        if (hec)
        {
            co_await throw_if_cancelled();
            if (hec == beast::error::timeout)
                fail("TLS handshake timeout after " + deadline);
            const long verify = SSL_get_verify_result(layers->tls->native_handle());
            if (options.tls->verify_peer() && verify != X509_V_OK)
                fail(std::string("TLS handshake: certificate verify failed (") + X509_verify_cert_error_string(verify) +
                     ")");
            fail("TLS handshake: " + hec.message());
        }
    }
    layers->tcp().expires_never();
    co_return stream(std::move(layers));
}

// ---- net::stream ------------------------------------------------------------------------

stream::stream() noexcept = default;
stream::stream(std::unique_ptr<layers> l) noexcept
    : layers_(std::move(l))
{
}
stream::stream(stream&&) noexcept = default;
stream& stream::operator=(stream&&) noexcept = default;

stream::~stream()
{
    close();
}

stream::executor_type stream::get_executor() const noexcept
{
    return layers_->tcp().get_executor();
}

bool stream::tls() const noexcept
{
    return layers_->tls.has_value();
}

void stream::close() noexcept
{
    if (!layers_)
        return;
    error_code ignored;
    layers_->tcp().socket().close(ignored);
}

// The erased handler is bound to the stream's executor: Beast's tcp_stream (1.81) cannot post
// through the any_completion_executor an any_completion_handler carries.
void stream::start_read(asio::mutable_buffer b, io_handler handler)
{
    auto bound = asio::bind_executor(get_executor(), std::move(handler));
    if (layers_->tls)
        layers_->tls->async_read_some(b, std::move(bound));
    else
        layers_->plain->async_read_some(b, std::move(bound));
}

void stream::start_write(asio::const_buffer b, io_handler handler)
{
    auto bound = asio::bind_executor(get_executor(), std::move(handler));
    if (layers_->tls)
        layers_->tls->async_write_some(b, std::move(bound));
    else
        layers_->plain->async_write_some(b, std::move(bound));
}

} // namespace courier::net
