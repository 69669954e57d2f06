// The HTTP client's bounded pool of keep-alive connections to one endpoint.
//
// A sender takes a `lease`: an idle connection, or a slot to open a new one in, or (when the
// bound is reached) it waits. A released connection, or the slot of a closed one, goes
// directly to the oldest waiter, so a waiter cannot lose its turn to a newcomer and no
// wake-up is lost. The pool knows nothing of how connections are made or used.
#ifndef COURIER_SRC_HTTP_POOL_HPP
#define COURIER_SRC_HTTP_POOL_HPP

#include "http/connection.hpp"

#include <courier/clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <vector>

namespace courier::http {

/// Thread safety: used on one executor only (the client's).
class pool
{
public:
    /// `idle_timeout`: idle connections older than this (on `clock`) are closed instead of
    /// reused; zero or less disables reuse.
    pool(boost::asio::any_io_executor executor, std::size_t max_connections, std::chrono::milliseconds idle_timeout,
         std::shared_ptr<courier::clock> clock);
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    /// A slot of the pool and, once opened or taken from the pool, its connection. On
    /// destruction the connection goes back to the pool only if it was marked reusable
    /// (untouched, or after a complete keep-alive exchange): any exception path closes it.
    class lease
    {
    public:
        lease(pool& owner, std::unique_ptr<connection> conn) noexcept;
        lease(lease&& other) noexcept;
        lease& operator=(lease&&) = delete;
        ~lease();

        connection* get() const noexcept { return conn_.get(); }
        connection& attach(std::unique_ptr<connection> conn) noexcept;
        void busy() noexcept { reusable_ = false; }
        void reusable() noexcept { reusable_ = true; }

    private:
        pool* owner_;
        std::unique_ptr<connection> conn_;
        bool reusable_ = true;
    };

    /// An idle connection (the most recently used), or an empty slot, or, with none left,
    /// waits in line. `fresh`: never an idle connection (it may be as stale as the last).
    /// Cancellation: any type ends the wait with `boost::system::system_error`
    /// (operation_aborted).
    boost::asio::awaitable<lease> acquire(bool fresh);

    std::size_t open() const noexcept { return open_; }
    std::size_t idle() const noexcept { return idle_.size(); }
    std::size_t waiting() const noexcept { return waiters_.size(); }

    /// Closes the idle connections.
    void close_idle() noexcept;

private:
    struct waiter;
    struct idle_connection
    {
        std::unique_ptr<connection> conn;
        courier::clock::time_point since;
    };

    void release(std::unique_ptr<connection> conn, bool reusable) noexcept;
    static void discard(std::unique_ptr<connection> conn) noexcept;

    boost::asio::any_io_executor executor_;
    std::size_t max_connections_;
    std::chrono::milliseconds idle_timeout_;
    std::shared_ptr<courier::clock> clock_;
    std::vector<idle_connection> idle_; // back() is the most recently used
    std::size_t open_ = 0;              // connections and reserved slots
    std::list<waiter*> waiters_;        // oldest first
};

} // namespace courier::http

#endif
