// TLS tests of the HTTP client (src/http/client.hpp): certificate chain and host-name
// verification and SNI, against an in-process TLS server on 127.0.0.1.
//
// The certificates are made at test time with the `openssl` command in a temporary
// directory: a test CA, server certificates it signed (for IP 127.0.0.1 and DNS localhost,
// and for another host) and a self-signed one. Nothing is read from or sent to elsewhere.
#include "http/client.hpp"

#include "courier/error.hpp"

#include "loopback_http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using courier::errc;
using courier::http::client;
using courier::http::client_options;
using courier::http::endpoint;
using courier::http::request;

namespace {

using courier_test::contains;
using courier_test::expect_error;
using courier_test::nothrow;

// The shared runner, whose limit only catches a hang (see loopback_http_server.hpp). The
// 2 s request timeouts and the server's 3 s handshake deadline are real socket deadlines
// that must not fire: a loopback TLS handshake and exchange take about 20 ms on an idle
// machine, so they hold at a 20x slowdown.
using courier_test::run_test;

// The test PKI, made once per process and removed at exit.
struct certificates
{
    fs::path dir;

    certificates()
    {
        std::string tmpl = (fs::temp_directory_path() / "courier-tls-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        run("openssl req -x509" + key + " -keyout ca.key -out ca.pem -days 2"
            " -subj '/CN=courier test CA'"
            " -addext basicConstraints=critical,CA:TRUE"
            " -addext keyUsage=critical,keyCertSign,cRLSign");
        issue("local", "subjectAltName=IP:127.0.0.1,DNS:localhost", key);
        issue("other", "subjectAltName=DNS:other.example", key);
        run("openssl req -x509" + key + " -keyout self.key -out self.pem -days 2"
            " -subj '/CN=127.0.0.1' -addext subjectAltName=IP:127.0.0.1");
    }
    ~certificates()
    {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }

    std::string file(const std::string& name) const { return (dir / name).string(); }

private:
    void run(const std::string& command) const
    {
        const std::string line = "cd '" + dir.string() + "' && " + command + " >/dev/null 2>&1";
        REQUIRE_MESSAGE(std::system(line.c_str()) == 0, line);
    }
    void issue(const std::string& name, const std::string& san, const std::string& key) const
    {
        std::ofstream(dir / (name + ".ext")) << san << "\n";
        run("openssl req" + key + " -keyout " + name + ".key -out " + name + ".csr" +
            " -subj '/CN=" + name + "'");
        run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial" +
            " -days 2 -out " + name + ".pem -extfile " + name + ".ext");
    }
};

const certificates& pki()
{
    static certificates instance;
    return instance;
}

struct tls_server_state
{
    int accepted = 0;
    int handshakes = 0;
    int requests = 0;
    std::string server_name; // SNI of the last handshake
};

// Serves 200 "secure" over TLS with the certificate `name`.pem until the io_context stops.
class tls_server
{
public:
    tls_server(asio::io_context& io, const std::string& name)
        : shared_(std::make_shared<shared>(io))
    {
        shared_->ctx.use_certificate_chain_file(pki().file(name + ".pem"));
        shared_->ctx.use_private_key_file(pki().file(name + ".key"), ssl::context::pem);
        asio::co_spawn(io, accept_loop(shared_), [](std::exception_ptr) {});
    }
    ~tls_server()
    {
        boost::system::error_code ignored;
        shared_->acceptor.close(ignored);
    }

    std::uint16_t port() const { return shared_->acceptor.local_endpoint().port(); }
    tls_server_state& state() { return shared_->state; }

private:
    struct shared
    {
        explicit shared(asio::io_context& io)
            : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0))
            , ctx(ssl::context::tls_server)
        {
        }
        tcp::acceptor acceptor;
        ssl::context ctx;
        tls_server_state state;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<shared> s)
    {
        for (;;) {
            auto [ec, socket] = co_await s->acceptor.async_accept(nothrow);
            if (ec)
                co_return;
            ++s->state.accepted;
            asio::co_spawn(s->acceptor.get_executor(), serve(s, std::move(socket)),
                           [](std::exception_ptr) {});
        }
    }

    static asio::awaitable<void> serve(std::shared_ptr<shared> s, tcp::socket socket)
    {
        ssl::stream<beast::tcp_stream> stream(std::move(socket), s->ctx);
        beast::get_lowest_layer(stream).expires_after(3s);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
        if (hec)
            co_return;
        ++s->state.handshakes;
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        s->state.server_name = sni ? sni : "";
        beast::flat_buffer buffer;
        for (;;) {
            bhttp::request<bhttp::string_body> req;
            auto [rec, n] = co_await bhttp::async_read(stream, buffer, req, nothrow);
            if (rec)
                co_return;
            ++s->state.requests;
            bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
            res.body() = "secure";
            res.prepare_payload();
            auto [wec, m] = co_await bhttp::async_write(stream, res, nothrow);
            if (wec)
                co_return;
        }
    }

    std::shared_ptr<shared> shared_;
};

std::string url(const std::string& host, std::uint16_t port)
{
    return "https://" + host + ":" + std::to_string(port);
}

// The error a send throws, or the test fails.

} // namespace

TEST_CASE("tls: a certificate from the configured CA is accepted and reused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "local");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())), options);
        for (int i = 0; i < 2; ++i)
            CHECK((co_await c.send(request{}, 2s)).body == "secure");
        CHECK(server.state().accepted == 1);
        CHECK(server.state().requests == 2);
        CHECK(server.state().server_name.empty()); // no SNI for an address
    });
}

TEST_CASE("tls: host-name verification and SNI use the endpoint's name")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "local");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client c(io.get_executor(), endpoint::parse(url("localhost", server.port())), options);
        CHECK((co_await c.send(request{}, 2s)).body == "secure");
        CHECK(server.state().server_name == "localhost");
    });
}

TEST_CASE("tls: a self-signed certificate is refused by the system store")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "self");
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())));
        auto e = co_await expect_error(c, request(), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "TLS handshake: certificate verify failed"));
        CHECK(contains(e.detail(), "self-signed"));
        CHECK(server.state().requests == 0);
        CHECK(c.stats().open == 0);
    });
}

TEST_CASE("tls: verify_peer = false accepts any certificate")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "self");
        client_options options;
        options.verify_peer = false;
        client c(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())), options);
        CHECK((co_await c.send(request{}, 2s)).body == "secure");
    });
}

TEST_CASE("tls: a certificate for another host is refused")
{
    run_test([](asio::io_context& io) -> asio::awaitable<void> {
        tls_server server(io, "other");
        client_options options;
        options.ca_file = pki().file("ca.pem");
        client by_address(io.get_executor(), endpoint::parse(url("127.0.0.1", server.port())),
                          options);
        auto e = co_await expect_error(by_address, request(), 2s);
        CHECK(e.code() == errc::transport_failed);
        CHECK(contains(e.detail(), "certificate verify failed (IP address mismatch)"));

        client by_name(io.get_executor(), endpoint::parse(url("localhost", server.port())),
                       options);
        auto n = co_await expect_error(by_name, request(), 2s);
        CHECK(contains(n.detail(), "certificate verify failed (hostname mismatch)"));
        CHECK(server.state().requests == 0);
    });
}
