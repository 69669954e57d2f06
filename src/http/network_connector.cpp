// Network connections: net::connect for the socket (and TLS), http::exchange compiled for
// the plain and the TLS stream.
#include "http/network_connector.hpp"

#include "http/exchange.hpp"
#include "net/connect.hpp"
#include "net/stream_layers.hpp"

namespace courier::http {

namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

class network_connection final : public connection
{
public:
    explicit network_connection(net::stream s)
        : stream_(std::move(s))
    {
        buffer_.reserve(read_buffer_reserve);
    }

    asio::awaitable<void> exchange(const wire_request& req, const response_limits& limits, milliseconds timeout,
                                   exchange_result& out) override
    {
        auto& layers = stream_.native();
        if (layers.tls)
            co_await http::exchange(*layers.tls, buffer_, req, limits, timeout, out);
        else
            co_await http::exchange(*layers.plain, buffer_, req, limits, timeout, out);
    }

    void close() noexcept override { stream_.close(); }

private:
    net::stream stream_;
    boost::beast::flat_buffer buffer_;
};

class network_connector final : public connector
{
public:
    explicit network_connector(std::shared_ptr<const net::tls_context> tls)
        : tls_(std::move(tls))
    {
    }

    asio::awaitable<std::unique_ptr<connection>> connect(asio::any_io_executor executor, const endpoint& remote,
                                                         milliseconds timeout) override
    {
        if (remote.tls() && !tls_)
            throw error(errc::transport_failed, remote.host_header + ": no TLS settings for an https endpoint");
        // Named, not a braced temporary in the co_await: GCC 12 miscompiles that for an
        // aggregate holding strings (chriskohlhoff/asio#1073).
        net::connect_options options{.host = remote.host,
                                     .port = remote.port,
                                     .timeout = timeout,
                                     .tls = remote.tls() ? tls_ : nullptr,
                                     .name = remote.host_header};
        net::stream s = co_await net::connect(std::move(executor), std::move(options));
        if (!s.tls())
        {
            // Requests are written with a synchronous write_some first (see http::exchange),
            // which must not block the event loop.
            boost::system::error_code ec;
            s.native().tcp().socket().non_blocking(true, ec);
            if (ec)
                throw error(errc::transport_failed,
                            remote.host_header + ": cannot make the socket non-blocking: " + ec.message());
        }
        co_return std::make_unique<network_connection>(std::move(s));
    }

private:
    std::shared_ptr<const net::tls_context> tls_;
};

} // namespace

std::shared_ptr<connector> make_network_connector(std::shared_ptr<const net::tls_context> tls)
{
    return std::make_shared<network_connector>(std::move(tls));
}

} // namespace courier::http
