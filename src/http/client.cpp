// The HTTP client: the request coroutine over the pool and the connector, with its deadlines
// on the sockets' own timers or on courier::clock.
//
// Each `send` runs as its own coroutine on the client's executor (co_spawn). That gives it
// its own cancellation state, which it can widen without touching the caller's, and keeps
// every pool access on one executor.
#include "http/client.hpp"

#include "http/connection.hpp"
#include "http/network_connector.hpp"
#include "http/pool.hpp"
#include "net/tls_context.hpp"

#include <courier/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace courier::http {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

[[noreturn]] void aborted()
{
    throw boost::system::system_error(asio::error::operation_aborted);
}

asio::awaitable<bool> cancelled()
{
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

// Runs `op` against a sleep of `timeout` on `clock`: whichever ends first cancels the other,
// and both have finished when this returns. Empty if the deadline came first; what `op`
// threw is rethrown. (Asio's `||` would wait out the deadline after a failure of `op`.)
template <class T>
asio::awaitable<std::optional<T>> before_deadline(courier::clock& clock, milliseconds timeout, asio::awaitable<T> op)
{
    const auto ex = co_await asio::this_coro::executor;
    auto group = asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(op), asio::deferred),
                                                         asio::co_spawn(ex, clock.sleep_for(timeout), asio::deferred));
    auto [order, op_error, result, sleep_error] =
        co_await std::move(group).async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    if (order[0] == 1)
    {
        if (sleep_error) // the sleep did not run out: the caller was cancelled
            aborted();
        co_return std::nullopt;
    }
    if (op_error)
        std::rethrow_exception(op_error);
    co_return std::move(result);
}

// The same for an operation without a result.
asio::awaitable<bool> before_deadline(courier::clock& clock, milliseconds timeout, asio::awaitable<void> op)
{
    auto with_result = [](asio::awaitable<void> inner) -> asio::awaitable<bool> {
        co_await std::move(inner);
        co_return true;
    };
    const std::optional<bool> finished = co_await before_deadline(clock, timeout, with_result(std::move(op)));
    co_return finished.has_value();
}

// A clock other than the real one: deadlines are raced against its sleeps.
std::shared_ptr<courier::clock> clock_for_deadlines(const client_options& options)
{
    return options.clock == courier::steady_clock() ? nullptr : options.clock;
}

} // namespace

struct client::impl
{
    impl(asio::any_io_executor ex, endpoint ep, client_options opt);

    static asio::awaitable<response> run(std::shared_ptr<impl> self, request req, milliseconds timeout);
    static asio::awaitable<response> attempts(std::shared_ptr<impl> self, request req, milliseconds timeout);
    asio::awaitable<std::unique_ptr<connection>> open();
    asio::awaitable<void> exchange(connection& conn, const wire_request& req, milliseconds timeout,
                                   exchange_result& out);
    [[noreturn]] void fail(errc code, const std::string& what) const
    {
        throw error(code, remote_.host_header + ": " + what);
    }

    asio::any_io_executor ex_;
    endpoint remote_;
    client_options options_;
    response_limits limits_;
    std::shared_ptr<courier::clock> deadline_clock_; // null: the connections' own timers
    std::shared_ptr<connector> connector_;
    pool pool_;
};

client::impl::impl(asio::any_io_executor ex, endpoint ep, client_options opt)
    : ex_(std::move(ex)),
      remote_(std::move(ep)),
      options_(std::move(opt)),
      limits_{options_.max_response_body, options_.max_response_header},
      deadline_clock_(clock_for_deadlines(options_)),
      connector_(options_.transport),
      pool_(ex_, options_.max_connections, options_.idle_timeout,
            options_.clock ? options_.clock : courier::steady_clock())
{
    if (options_.max_connections == 0)
        throw error(errc::bad_configuration, "http client: max_connections must be at least 1");
    if (remote_.scheme != "http" && remote_.scheme != "https")
        throw error(errc::bad_configuration, "http client: scheme must be http or https");
    if (!connector_)
    {
        std::shared_ptr<const net::tls_context> tls;
        if (remote_.tls())
            tls = std::make_shared<const net::tls_context>(
                net::tls_context::options{.ca_file = options_.ca_file, .verify_peer = options_.verify_peer},
                remote_.host_header);
        connector_ = make_network_connector(std::move(tls));
    }
}

asio::awaitable<std::unique_ptr<connection>> client::impl::open()
{
    const milliseconds timeout = options_.connect_timeout;
    if (!deadline_clock_)
        co_return co_await connector_->connect(ex_, remote_, timeout);
    auto conn = co_await before_deadline(*deadline_clock_, timeout, connector_->connect(ex_, remote_, {}));
    if (!conn)
        fail(errc::transport_failed, "connect timeout after " + std::to_string(timeout.count()) + " ms");
    co_return std::move(*conn);
}

asio::awaitable<void> client::impl::exchange(connection& conn, const wire_request& req, milliseconds timeout,
                                             exchange_result& out)
{
    if (!deadline_clock_)
    {
        co_await conn.exchange(req, limits_, timeout, out);
        co_return;
    }
    // The result named, not awaited inside the `if`: GCC 12 miscompiled that form here (the
    // frame was resumed at a suspension point it never had: SIGILL).
    const bool finished = co_await before_deadline(*deadline_clock_, timeout, conn.exchange(req, limits_, {}, out));
    if (!finished)
    {
        out.ec = asio::error::timed_out;
        out.stale = false;
        out.code = errc::transport_failed;
        out.what =
            std::string(out.writing ? "write" : "read") + " timeout after " + std::to_string(timeout.count()) + " ms";
    }
}

asio::awaitable<response> client::impl::run(std::shared_ptr<impl> self, request req, milliseconds timeout)
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
asio::awaitable<response> client::impl::attempts(std::shared_ptr<impl> self, request req, milliseconds timeout)
{
    const wire_request message = to_wire(req, self->remote_);

    for (int attempt = 0;; ++attempt)
    {
        pool::lease held = co_await self->pool_.acquire(attempt > 0);
        const bool reused = held.get() != nullptr;
        if (!reused)
            held.attach(co_await self->open());
        held.busy();
        exchange_result out;
        co_await self->exchange(*held.get(), message, timeout, out);
        if (!out.ec)
        {
            if (out.keep_alive)
                held.reusable();
            co_return std::move(out.answer);
        }
        if (co_await cancelled())
            aborted();
        // A keep-alive connection the server closed while it sat idle fails like this on
        // its first use, and the server never read the request: retrying it once on a new
        // connection is safe. (A server could in theory process a request and then drop the
        // connection without a byte of answer; for SQS that is the same ambiguity as a read
        // timeout, which callers retry anyway: receives are at-least-once, deletes and
        // visibility changes are idempotent. Fresh connections are never retried here.)
        if (reused && attempt == 0 && out.stale)
            continue;
        self->fail(out.code, out.what);
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
    co_return co_await asio::co_spawn(ex, impl::run(std::move(self), std::move(req), timeout), asio::use_awaitable);
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

const client_options& client::options() const noexcept
{
    return impl_->options_;
}

const asio::any_io_executor& client::get_executor() const noexcept
{
    return impl_->ex_;
}

client::pool_stats client::stats() const noexcept
{
    return {impl_->pool_.open(), impl_->pool_.idle(), impl_->pool_.waiting()};
}

void client::close_idle() noexcept
{
    impl_->pool_.close_idle();
}

} // namespace courier::http
