// The connection pool. A waiter sleeps on a timer that never expires by itself: `release`
// hands it a connection (or, with a null one, the slot of a closed connection) and cancels
// the timer to wake it.
#include "http/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace courier::http {

namespace asio = boost::asio;

struct pool::waiter
{
    explicit waiter(pool& p)
        : owner(p),
          timer(p.executor_, asio::steady_timer::time_point::max()),
          position(p.waiters_.insert(p.waiters_.end(), this))
    {
    }
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    ~waiter()
    {
        if (!granted)
            owner.waiters_.erase(position);
        else if (!taken) // woken, but the coroutine ended before it took its grant: pass it on
            owner.release(std::move(conn), true);
    }

    pool& owner;
    asio::steady_timer timer;
    std::list<waiter*>::iterator position;
    bool granted = false;
    bool taken = false;
    std::unique_ptr<connection> conn;
};

pool::pool(asio::any_io_executor executor, std::size_t max_connections, std::chrono::milliseconds idle_timeout,
           std::shared_ptr<courier::clock> clock)
    : executor_(std::move(executor)),
      max_connections_(max_connections),
      idle_timeout_(idle_timeout),
      clock_(std::move(clock))
{
}

pool::lease::lease(pool& owner, std::unique_ptr<connection> conn) noexcept
    : owner_(&owner),
      conn_(std::move(conn))
{
}

pool::lease::lease(lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      conn_(std::move(other.conn_)),
      reusable_(other.reusable_)
{
}

pool::lease::~lease()
{
    if (owner_)
        owner_->release(std::move(conn_), reusable_);
}

connection& pool::lease::attach(std::unique_ptr<connection> conn) noexcept
{
    conn_ = std::move(conn);
    reusable_ = false;
    return *conn_;
}

asio::awaitable<pool::lease> pool::acquire(bool fresh)
{
    std::unique_ptr<connection> conn;
    if (!idle_.empty())
    {
        // Expired idle connections sit at the front (oldest); close them first.
        const auto now = clock_->now();
        while (!idle_.empty() && now - idle_.front().since >= idle_timeout_)
        {
            discard(std::move(idle_.front().conn));
            idle_.erase(idle_.begin());
            --open_;
        }
    }
    if (waiters_.empty() && !idle_.empty())
    {
        conn = std::move(idle_.back().conn);
        idle_.pop_back();
    }
    else if (waiters_.empty() && open_ < max_connections_)
    {
        ++open_;
    }
    else
    {
        waiter w(*this);
        co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable)); // a grant or a cancellation
        if (!w.granted)
            throw boost::system::system_error(asio::error::operation_aborted);
        w.taken = true;
        conn = std::move(w.conn);
    }
    if (fresh)
        discard(std::move(conn)); // keep the slot
    co_return lease(*this, std::move(conn));
}

void pool::release(std::unique_ptr<connection> conn, bool reusable) noexcept
{
    if (!reusable || idle_timeout_.count() <= 0)
        discard(std::move(conn));
    if (!waiters_.empty())
    {
        waiter* w = waiters_.front();
        waiters_.pop_front();
        w->granted = true;
        w->conn = std::move(conn);
        w->timer.cancel();
    }
    else if (conn)
    {
        idle_.push_back({std::move(conn), clock_->now()});
    }
    else
    {
        --open_;
    }
}

void pool::close_idle() noexcept
{
    open_ -= idle_.size();
    for (auto& i : idle_)
        discard(std::move(i.conn));
    idle_.clear();
}

void pool::discard(std::unique_ptr<connection> conn) noexcept
{
    if (conn)
        conn->close();
}

} // namespace courier::http
