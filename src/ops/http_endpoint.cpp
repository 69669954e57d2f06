// The operations endpoint (see http_endpoint.hpp). Each connection is one coroutine that
// reads requests and answers them; nothing here touches a route, except through the
// sources, which are safe from any thread.
#include "ops/http_endpoint.hpp"

#include <courier/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <charconv>
#include <list>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;

namespace courier::detail {

std::pair<std::string, std::uint16_t> parse_listen_address(std::string_view address)
{
    auto bad = [&](std::string_view why) {
        return error(errc::bad_configuration, "metrics address \"" + std::string(address) + "\": " + std::string(why) +
                                                  " (expected host:port, such as 127.0.0.1:9464 or [::1]:9464)");
    };
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos)
        throw bad("no port");
    std::string_view host = address.substr(0, colon);
    const auto port_text = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        throw bad("no host");
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
        throw bad("the port is not a number from 0 to 65535");
    boost::system::error_code parse_error;
    asio::ip::make_address(std::string(host), parse_error);
    if (parse_error)
        throw bad("the host is not an IP address");
    return {std::string(host), static_cast<std::uint16_t>(port)};
}

struct http_endpoint::state : std::enable_shared_from_this<state>
{
    state(asio::any_io_executor ex, tcp::endpoint at, endpoint_sources s, const logger& l)
        : executor(std::move(ex)),
          acceptor(executor),
          sources(std::move(s)),
          log(l)
    {
        acceptor.open(at.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(at);
        acceptor.listen();
    }

    asio::awaitable<void> accept_loop()
    {
        auto self = shared_from_this();
        while (!stopped)
        {
            auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec)
            {
                if (stopped || ec == asio::error::operation_aborted)
                    co_return;
                log.log(log_level::warning, {}, {}, "metrics endpoint: accept failed: {}", ec.message());
                continue;
            }
            auto connection = connections.insert(connections.end(), beast::tcp_stream(std::move(socket)));
            asio::co_spawn(executor, serve(*connection),
                           [self, connection](std::exception_ptr) { self->connections.erase(connection); });
        }
    }

    asio::awaitable<void> serve(beast::tcp_stream& stream)
    {
        auto self = shared_from_this();
        beast::flat_buffer buffer;
        for (;;)
        {
            http::request<http::string_body> request;
            // A probe or a scrape sends a small request at once; an idle keep-alive
            // connection is closed after a while.
            stream.expires_after(std::chrono::seconds(30));
            auto [ec, n] = co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
            if (ec)
                break;
            auto response = co_await answer(request);
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            stream.expires_after(std::chrono::seconds(30));
            auto [write_error, written] =
                co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
            if (write_error || !response.keep_alive())
                break;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    asio::awaitable<http::response<http::string_body>> answer(const http::request<http::string_body>& request)
    {
        http::response<http::string_body> response{http::status::ok, request.version()};
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        const auto target = std::string_view(request.target().data(), request.target().size());
        const auto path = target.substr(0, target.find('?'));
        if (request.method() != http::verb::get && request.method() != http::verb::head)
        {
            response.result(http::status::method_not_allowed);
            response.body() = "only GET\n";
        }
        else if (path == "/metrics")
        {
            response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            response.body() = sources.metrics();
        }
        else if (path == "/healthz")
        {
            // A round trip through the event loop within a second: a loop that a blocking
            // handler holds fails it.
            asio::steady_timer limit(executor, std::chrono::seconds(1));
            const auto turned =
                co_await (asio::post(executor, asio::use_awaitable) || limit.async_wait(asio::use_awaitable));
            if (turned.index() == 0)
                response.body() = "ok\n";
            else
            {
                response.result(http::status::service_unavailable);
                response.body() = "the event loop did not turn within a second\n";
            }
        }
        else if (path == "/readyz")
        {
            const auto ready = sources.readiness();
            if (ready.ready)
                response.body() = "ready\n";
            else
            {
                response.result(http::status::service_unavailable);
                for (const auto& reason : ready.reasons)
                    response.body().append(reason).append("\n");
            }
        }
        else
        {
            response.result(http::status::not_found);
            response.body() = "not found: try /metrics, /healthz or /readyz\n";
        }
        co_return response;
    }

    asio::any_io_executor executor;
    tcp::acceptor acceptor;
    endpoint_sources sources;
    const logger& log;
    std::list<beast::tcp_stream> connections;
    bool stopped = false;
};

http_endpoint::http_endpoint(asio::any_io_executor executor, std::string_view address, endpoint_sources sources,
                             const logger& log)
{
    const auto [host, wanted_port] = parse_listen_address(address);
    try
    {
        state_ = std::make_shared<state>(executor, tcp::endpoint(asio::ip::make_address(host), wanted_port),
                                         std::move(sources), log);
    }
    catch (const boost::system::system_error& e)
    {
        throw error(errc::bad_configuration,
                    "metrics address \"" + std::string(address) + "\" cannot be bound: " + e.code().message());
    }
    asio::co_spawn(executor, state_->accept_loop(), asio::detached);
    log.log(log_level::info, {}, {}, "serving /metrics, /healthz and /readyz on {}:{}", host, port());
}

http_endpoint::~http_endpoint()
{
    stop();
}

std::uint16_t http_endpoint::port() const noexcept
{
    boost::system::error_code ec;
    return state_->acceptor.local_endpoint(ec).port();
}

void http_endpoint::stop()
{
    if (!state_ || stop_requested_)
        return;
    stop_requested_ = true;
    // On the endpoint's executor: the acceptor and the streams are not thread-safe.
    asio::post(state_->executor, [s = state_] {
        s->stopped = true;
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
        for (auto& c : s->connections)
            c.socket().close(ignored);
    });
}

} // namespace courier::detail
