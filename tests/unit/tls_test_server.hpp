// A TLS server for tests, on 127.0.0.1 port 0, and the test PKI it uses.
//
// The certificates are made at test time with the `openssl` command in a temporary
// directory: a test CA, server certificates it signed (for IP 127.0.0.1 and DNS localhost,
// and for another host) and a self-signed one. Nothing is read from or sent to elsewhere.
// The server answers every HTTP request on a connection with 200 "secure" and records the
// SNI name of the last handshake.
#ifndef COURIER_TESTS_TLS_TEST_SERVER_HPP
#define COURIER_TESTS_TLS_TEST_SERVER_HPP

#include "loopback_http_server.hpp"

#include <boost/asio/ssl.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace courier_test {

namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

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
        run("openssl req -x509" + key +
            " -keyout ca.key -out ca.pem -days 2"
            " -subj '/CN=courier test CA'"
            " -addext basicConstraints=critical,CA:TRUE"
            " -addext keyUsage=critical,keyCertSign,cRLSign");
        issue("local", "subjectAltName=IP:127.0.0.1,DNS:localhost", key);
        issue("other", "subjectAltName=DNS:other.example", key);
        run("openssl req -x509" + key +
            " -keyout self.key -out self.pem -days 2"
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
        run("openssl req" + key + " -keyout " + name + ".key -out " + name + ".csr" + " -subj '/CN=" + name + "'");
        run("openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial" + " -days 2 -out " +
            name + ".pem -extfile " + name + ".ext");
    }
};

inline const certificates& pki()
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
            : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)),
              ctx(ssl::context::tls_server)
        {
        }
        tcp::acceptor acceptor;
        ssl::context ctx;
        tls_server_state state;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<shared> s)
    {
        for (;;)
        {
            auto [ec, socket] = co_await s->acceptor.async_accept(nothrow);
            if (ec)
                co_return;
            ++s->state.accepted;
            asio::co_spawn(s->acceptor.get_executor(), serve(s, std::move(socket)), [](std::exception_ptr) {});
        }
    }

    static asio::awaitable<void> serve(std::shared_ptr<shared> s, tcp::socket socket)
    {
        ssl::stream<beast::tcp_stream> stream(std::move(socket), s->ctx);
        // Only ends a handshake the client abandoned; generous, so that a machine 20 times
        // slower than usual never hits it.
        beast::get_lowest_layer(stream).expires_after(60s);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
        if (hec)
            co_return;
        ++s->state.handshakes;
        const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        s->state.server_name = sni ? sni : "";
        beast::flat_buffer buffer;
        for (;;)
        {
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

} // namespace courier_test

#endif
