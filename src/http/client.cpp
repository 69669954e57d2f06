// The HTTP client's implementation: URL parsing, the connection pool, connecting (TCP and
// TLS) and one request/response exchange with Beast.
//
// Each `send` runs as its own coroutine on the client's executor (co_spawn). That gives it
// its own cancellation state, which it can widen without touching the caller's, and keeps
// every pool access on one executor. The pool hands a released connection (or the slot of a
// closed one) directly to the oldest waiter, so a waiter cannot lose its turn to a newcomer
// and no wake-up is lost.
#include "http/client.hpp"

#include "courier/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <list>
#include <optional>
#include <stdexcept>

namespace courier::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using std::chrono::milliseconds;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

bool is_address(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

[[noreturn]] void bad_url(std::string_view url, std::string_view why)
{
    // A URL with '@' may carry a password (even a malformed one), so it is not echoed.
    std::string text = "invalid endpoint URL";
    if (url.find('@') == std::string_view::npos)
        text.append(" '").append(url).append("'");
    throw error(errc::bad_configuration, text.append(": ").append(why));
}

[[noreturn]] void aborted()
{
    throw boost::system::system_error(asio::error::operation_aborted);
}

asio::awaitable<bool> cancelled()
{
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

using tls_stream = ssl::stream<beast::tcp_stream>;
using wire_response = bhttp::response<bhttp::string_body>;

// One connection. Exactly one of `plain` and `tls` is engaged.
struct connection
{
    std::optional<beast::tcp_stream> plain;
    std::optional<tls_stream> tls;
    beast::flat_buffer buffer;
    std::size_t served = 0;
    std::chrono::steady_clock::time_point idle_since;

    // Beast reads at most the buffer's free capacity (at least 512 bytes) per read_some: a
    // ReceiveMessage answer of 10 small messages took 14 reads with an empty buffer.
    connection() { buffer.reserve(16 * 1024); }
    beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
    ~connection()
    {
        error_code ignored;
        if (plain || tls)
            tcp().socket().close(ignored);
    }
};

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
            X509_STORE_CTX_set_error(ctx.native_handle(), address
                                                             ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                                             : X509_V_ERR_HOSTNAME_MISMATCH);
        return false;
    }
};

ssl::context make_tls_context(const client_options& options, const endpoint& remote)
{
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    if (!options.verify_peer) {
        ctx.set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (options.ca_file.empty())
        ctx.set_default_verify_paths(ec);
    else
        ctx.load_verify_file(options.ca_file, ec);
    if (ec)
        throw error(errc::bad_configuration, remote.host_header + ": cannot load CA " +
                                                 (options.ca_file.empty()
                                                      ? std::string("system store")
                                                      : "file '" + options.ca_file + "'") +
                                                 ": " + ec.message());
    return ctx;
}

// The request as it goes on the wire: the head rendered here, the body sent as it is. Beast's
// serializer would first copy every field into its own allocated node, then walk them with a
// buffer-sequence machinery that costs more than the request itself.
struct wire_request
{
    std::string head;
    std::string body;
    bool head_only_response = false; // a HEAD request: the response has no body
};

wire_request to_wire(request& req, const endpoint& remote)
{
    // Fields are not validated by anyone else; CR or LF would let a value inject headers.
    auto bad = [](std::string_view s) { return s.find_first_of("\r\n") != s.npos; };
    if (bad(req.method) || bad(req.target) || req.method.empty() || req.target.empty() ||
        req.method.find(' ') != std::string::npos || req.target.find(' ') != std::string::npos)
        throw std::invalid_argument("courier::http: invalid method or target");
    wire_request m;
    std::size_t size = req.method.size() + req.target.size() + remote.host_header.size() + 64;
    for (const auto& [name, value] : req.headers)
        size += name.size() + value.size() + 4;
    m.head.reserve(size);
    m.head.append(req.method).append(" ").append(req.target).append(" HTTP/1.1\r\n");
    bool has_host = false;
    for (const auto& [name, value] : req.headers) {
        if (bad(name) || bad(value) || name.empty())
            throw std::invalid_argument("courier::http: invalid header field");
        has_host = has_host || iequals(name, "host");
        m.head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host)
        m.head.append("Host: ").append(remote.host_header).append("\r\n");
    // As Beast's prepare_payload: a length for any body, and for the methods that expect one.
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "OPTIONS") {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, req.body.size()).ptr;
        m.head.append("Content-Length: ").append(digits, end).append("\r\n");
    }
    m.head.append("\r\n");
    m.body = std::move(req.body);
    m.head_only_response = req.method == "HEAD";
    return m;
}

response from_wire(wire_response&& m)
{
    response r;
    r.status = m.result_int();
    for (const auto& field : m)
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    r.body = std::move(m.body());
    return r;
}

struct exchange_result
{
    error_code ec;
    bool writing = false;   // failed while sending the request
    bool got_bytes = false; // some of the response arrived
    wire_response message;
};

// Writes the request and reads the response under one deadline.
template <class Stream>
asio::awaitable<exchange_result> exchange(Stream& stream, connection& conn,
                                          const wire_request& req,
                                          const client_options& options, milliseconds timeout)
{
    exchange_result out;
    conn.tcp().expires_after(timeout);
    const std::array<asio::const_buffer, 2> bytes{asio::buffer(req.head), asio::buffer(req.body)};
    std::size_t sent = 0;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        // A request almost always fits the socket's send buffer: write it now (the socket
        // is non-blocking, see `open`) rather than through async_write, whose completion is
        // posted even when the write was done at once: a trip through the event loop, and
        // an epoll_wait, per request. What does not fit goes the asynchronous way.
        error_code ec;
        sent = stream.socket().write_some(bytes, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again)
            sent = 0;
        else if (ec) {
            out.ec = ec;
            out.writing = true;
            co_return out;
        }
    }
    if (sent < req.head.size() + req.body.size()) {
        beast::buffers_suffix<std::array<asio::const_buffer, 2>> rest(bytes);
        rest.consume(sent);
        auto [wec, written] = co_await asio::async_write(stream, rest, nothrow);
        if (wec) {
            out.ec = wec;
            out.writing = true;
            co_return out;
        }
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_response_body);
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.max_response_header, UINT32_MAX)));
    if (req.head_only_response)
        parser.skip(true);
    auto [rec, read] = co_await bhttp::async_read(stream, conn.buffer, parser, nothrow);
    out.got_bytes = parser.got_some() || conn.buffer.size() != 0;
    out.ec = rec;
    if (!rec) {
        conn.tcp().expires_never();
        out.message = parser.release();
    }
    co_return out;
}

// The failures that mean "the server closed this idle connection before reading from it".
bool is_stale(const error_code& ec)
{
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

} // namespace

std::string_view response::header(std::string_view name) const noexcept
{
    for (const auto& [key, value] : headers)
        if (iequals(key, name))
            return value;
    return {};
}

endpoint endpoint::parse(std::string_view url)
{
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        bad_url(url, parsed.error().message());
    const boost::urls::url_view& u = *parsed;
    endpoint ep;
    if (u.scheme_id() == boost::urls::scheme::http) {
        ep.scheme = "http";
        ep.port = 80;
    } else if (u.scheme_id() == boost::urls::scheme::https) {
        ep.scheme = "https";
        ep.port = 443;
    } else {
        bad_url(url, "unsupported scheme '" + std::string(u.scheme()) + "' (use http or https)");
    }
    if (u.has_userinfo())
        bad_url(url, "user information is not allowed");
    if (u.has_fragment())
        bad_url(url, "a fragment is not allowed");
    const std::string_view encoded_host = u.encoded_host();
    if (encoded_host.empty())
        bad_url(url, "no host");
    if (encoded_host.find('%') != std::string_view::npos)
        bad_url(url, "percent-encoded host names are not supported");
    switch (u.host_type()) {
    case boost::urls::host_type::name:
        ep.host = std::string(encoded_host);
        std::transform(ep.host.begin(), ep.host.end(), ep.host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
        ep.host = std::string(u.encoded_host_address());
        break;
    default:
        bad_url(url, "unsupported host");
    }
    if (u.has_port() && !u.port().empty()) {
        // port_number() wraps values above 65535 in Boost 1.81, so range-check the digits.
        const std::string_view digits = u.port();
        unsigned long value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 ||
            value > 65535)
            bad_url(url, "invalid port");
        ep.port = static_cast<std::uint16_t>(value);
    }
    ep.host_header = u.host_type() == boost::urls::host_type::ipv6 ? "[" + ep.host + "]" : ep.host;
    if (ep.port != (ep.tls() ? 443 : 80))
        ep.host_header += ":" + std::to_string(ep.port);
    ep.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
    if (u.has_query())
        ep.path.append("?").append(u.encoded_query());
    return ep;
}

// ---------------------------------------------------------------------------------------
// The pool and the request coroutine.

struct client::impl
{
    struct waiter;
    class lease;

    impl(asio::any_io_executor ex, endpoint ep, client_options opt);

    static asio::awaitable<response> run(std::shared_ptr<impl> self, request req,
                                         milliseconds timeout);
    static asio::awaitable<response> attempts(std::shared_ptr<impl> self, request req,
                                              milliseconds timeout);
    asio::awaitable<lease> acquire(bool fresh);
    void release(std::unique_ptr<connection> conn, bool reusable) noexcept;
    asio::awaitable<void> open(connection& conn);
    [[noreturn]] void fail(errc code, std::string what) const;
    [[noreturn]] void fail_exchange(const exchange_result& out, milliseconds timeout) const;

    asio::any_io_executor ex_;
    endpoint remote_;
    client_options options_;
    bool address_ = false;
    std::optional<ssl::context> tls_;
    std::vector<std::unique_ptr<connection>> idle_; // back() is the most recently used
    std::size_t open_ = 0;                           // connections and reserved slots
    std::list<waiter*> waiters_;                     // oldest first
};

// A sender waiting for a connection. `release` hands it a connection (or, with a null one,
// the slot of a closed connection) and cancels its timer to wake it.
struct client::impl::waiter
{
    explicit waiter(impl& p)
        : pool(p), timer(p.ex_, std::chrono::steady_clock::time_point::max())
        , pos(p.waiters_.insert(p.waiters_.end(), this))
    {
    }
    ~waiter()
    {
        if (!granted)
            pool.waiters_.erase(pos);
        else if (!taken) // woken, but the coroutine ended before it took its grant: pass it on
            pool.release(std::move(conn), true);
    }

    impl& pool;
    asio::steady_timer timer;
    std::list<waiter*>::iterator pos;
    bool granted = false;
    bool taken = false;
    std::unique_ptr<connection> conn;
};

// Holds a pool slot and, once opened or taken from the pool, its connection. On destruction
// the connection goes back to the pool only if it is known to be reusable: untouched, or
// after a complete keep-alive exchange. Any exception path therefore closes it.
class client::impl::lease
{
public:
    lease(impl& pool, std::unique_ptr<connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    lease(lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_))
        , reusable_(other.reusable_)
    {
    }
    lease& operator=(lease&&) = delete;
    ~lease()
    {
        if (pool_)
            pool_->release(std::move(conn_), reusable_);
    }

    connection* get() const noexcept { return conn_.get(); }
    connection& attach(std::unique_ptr<connection> conn)
    {
        conn_ = std::move(conn);
        reusable_ = false;
        return *conn_;
    }
    void busy() noexcept { reusable_ = false; }
    void reusable() noexcept { reusable_ = true; }

private:
    impl* pool_;
    std::unique_ptr<connection> conn_;
    bool reusable_ = true;
};

client::impl::impl(asio::any_io_executor ex, endpoint ep, client_options opt)
    : ex_(std::move(ex)), remote_(std::move(ep)), options_(std::move(opt))
    , address_(is_address(remote_.host))
{
    if (options_.max_connections == 0)
        throw error(errc::bad_configuration, "http client: max_connections must be at least 1");
    if (remote_.scheme != "http" && remote_.scheme != "https")
        throw error(errc::bad_configuration, "http client: scheme must be http or https");
    if (remote_.tls())
        tls_.emplace(make_tls_context(options_, remote_));
}

void client::impl::fail(errc code, std::string what) const
{
    throw error(code, remote_.host_header + ": " + what);
}

asio::awaitable<client::impl::lease> client::impl::acquire(bool fresh)
{
    std::unique_ptr<connection> conn;
    const auto now = std::chrono::steady_clock::now();
    // Expired idle connections sit at the front (oldest); close them first.
    while (!idle_.empty() && now - idle_.front()->idle_since >= options_.idle_timeout) {
        idle_.erase(idle_.begin());
        --open_;
    }
    if (waiters_.empty() && !idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
    } else if (waiters_.empty() && open_ < options_.max_connections) {
        ++open_;
    } else {
        waiter w(*this);
        co_await w.timer.async_wait(nothrow); // ends on a grant or on cancellation
        if (!w.granted)
            aborted();
        w.taken = true;
        conn = std::move(w.conn);
    }
    if (fresh)
        conn.reset(); // keep the slot, drop a connection that may be as stale as the last
    co_return lease(*this, std::move(conn));
}

void client::impl::release(std::unique_ptr<connection> conn, bool reusable) noexcept
{
    if (!reusable || options_.idle_timeout.count() <= 0)
        conn.reset();
    if (!waiters_.empty()) {
        waiter* w = waiters_.front();
        waiters_.pop_front();
        w->granted = true;
        w->conn = std::move(conn);
        w->timer.cancel();
    } else if (conn) {
        conn->idle_since = std::chrono::steady_clock::now();
        idle_.push_back(std::move(conn));
    } else {
        --open_;
    }
}

asio::awaitable<void> client::impl::open(connection& conn)
{
    if (tls_)
        conn.tls.emplace(ex_, *tls_);
    else
        conn.plain.emplace(ex_);

    tcp::resolver resolver(ex_);
    const auto flags = address_ ? tcp::resolver::numeric_host | tcp::resolver::numeric_service
                                : tcp::resolver::numeric_service;
    auto [rec, results] =
        co_await resolver.async_resolve(remote_.host, std::to_string(remote_.port), flags, nothrow);
    if (rec) {
        if (co_await cancelled())
            aborted();
        fail(errc::transport_failed, "resolve failed: " + rec.message());
    }

    const auto deadline = std::to_string(options_.connect_timeout.count()) + " ms";
    conn.tcp().expires_after(options_.connect_timeout);
    auto [cec, peer] = co_await conn.tcp().async_connect(results, nothrow);
    if (cec) {
        if (co_await cancelled())
            aborted();
        if (cec == beast::error::timeout)
            fail(errc::transport_failed, "connect timeout after " + deadline);
        fail(errc::transport_failed, "connect failed: " + cec.message());
    }
    if (!conn.tls) {
        conn.tcp().expires_never();
        // Synchronous writes must not block the event loop (see `exchange`).
        error_code nbec;
        conn.tcp().socket().non_blocking(true, nbec);
        if (nbec)
            fail(errc::transport_failed, "cannot make the socket non-blocking: " + nbec.message());
        co_return;
    }

    // SNI carries host names only (RFC 6066 forbids addresses).
    if (!address_ && SSL_set_tlsext_host_name(conn.tls->native_handle(), remote_.host.c_str()) != 1)
        fail(errc::transport_failed, "TLS: cannot set server name");
    if (options_.verify_peer)
        conn.tls->set_verify_callback(verify_host{remote_.host, address_});
    auto [hec] = co_await conn.tls->async_handshake(ssl::stream_base::client, nothrow);
    if (hec) {
        if (co_await cancelled())
            aborted();
        if (hec == beast::error::timeout)
            fail(errc::transport_failed, "TLS handshake timeout after " + deadline);
        const long verify = SSL_get_verify_result(conn.tls->native_handle());
        if (options_.verify_peer && verify != X509_V_OK)
            fail(errc::transport_failed, std::string("TLS handshake: certificate verify failed (") +
                                             X509_verify_cert_error_string(verify) + ")");
        fail(errc::transport_failed, "TLS handshake: " + hec.message());
    }
    conn.tcp().expires_never();
}

void client::impl::fail_exchange(const exchange_result& out, milliseconds timeout) const
{
    const error_code& ec = out.ec;
    const std::string step = out.writing ? "write" : "read";
    if (ec == beast::error::timeout)
        fail(errc::transport_failed,
             step + " timeout after " + std::to_string(timeout.count()) + " ms");
    if (ec == bhttp::error::body_limit)
        fail(errc::bad_response, "response body exceeds the limit of " +
                                     std::to_string(options_.max_response_body) + " bytes");
    if (ec == bhttp::error::header_limit)
        fail(errc::bad_response, "response header exceeds the limit of " +
                                     std::to_string(options_.max_response_header) + " bytes");
    // Other parser errors mean the bytes were not HTTP; EOF in any form is the transport.
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
        fail(errc::bad_response, "malformed HTTP response: " + ec.message());
    fail(errc::transport_failed, step + " failed: " + ec.message());
}

asio::awaitable<response> client::impl::run(std::shared_ptr<impl> self, request req,
                                            milliseconds timeout)
{
    // Beast's HTTP operations honour terminal cancellation only, so any kind that reaches
    // this request is made terminal: a cancelled exchange leaves the connection in an
    // unknown state, and it is closed either way.
    co_await asio::this_coro::reset_cancellation_state([](asio::cancellation_type type) {
        return type != asio::cancellation_type::none ? asio::cancellation_type::terminal
                                                      : asio::cancellation_type::none;
    });
    co_return co_await attempts(std::move(self), std::move(req), timeout);
}

// The request itself, in whichever coroutine calls it (on the client's executor).
asio::awaitable<response> client::impl::attempts(std::shared_ptr<impl> self, request req,
                                                 milliseconds timeout)
{
    const wire_request message = to_wire(req, self->remote_);

    for (int attempt = 0;; ++attempt) {
        lease held = co_await self->acquire(attempt > 0);
        const bool reused = held.get() != nullptr;
        if (!reused)
            co_await self->open(held.attach(std::make_unique<connection>()));
        connection& conn = *held.get();
        held.busy();
        exchange_result out;
        if (conn.tls)
            out = co_await exchange(*conn.tls, conn, message, self->options_, timeout);
        else
            out = co_await exchange(*conn.plain, conn, message, self->options_, timeout);
        if (!out.ec) {
            ++conn.served;
            if (out.message.keep_alive())
                held.reusable();
            co_return from_wire(std::move(out.message));
        }
        if (co_await cancelled())
            aborted();
        // A keep-alive connection the server closed while it sat idle fails like this on
        // its first use, and the server never read the request: retrying it once on a new
        // connection is safe. (A server could in theory process a request and then drop the
        // connection without a byte of answer; for SQS that is the same ambiguity as a read
        // timeout, which callers retry anyway: receives are at-least-once, deletes and
        // visibility changes are idempotent. Fresh connections are never retried here.)
        if (reused && attempt == 0 && !out.got_bytes && is_stale(out.ec))
            continue;
        self->fail_exchange(out, timeout);
    }
}

// ---------------------------------------------------------------------------------------

client::client(asio::any_io_executor executor, endpoint remote, client_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(remote), std::move(options)))
{
}

client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

asio::awaitable<response> client::send(request req, milliseconds timeout)
{
    std::shared_ptr<impl> self = impl_;
    const asio::any_io_executor ex = self->ex_;
    co_return co_await asio::co_spawn(ex, impl::run(std::move(self), std::move(req), timeout),
                                      asio::use_awaitable);
}

asio::awaitable<response> client::send_on_executor(request req, milliseconds timeout)
{
    co_return co_await impl::attempts(impl_, std::move(req), timeout);
}

asio::awaitable<response> client::send(request req)
{
    return send(std::move(req), impl_->options_.request_timeout);
}

const endpoint& client::remote() const noexcept
{
    return impl_->remote_;
}

const asio::any_io_executor& client::get_executor() const noexcept
{
    return impl_->ex_;
}

client::pool_stats client::stats() const noexcept
{
    return {impl_->open_, impl_->idle_.size(), impl_->waiters_.size()};
}

void client::close_idle() noexcept
{
    impl_->open_ -= impl_->idle_.size();
    impl_->idle_.clear();
}

} // namespace courier::http
