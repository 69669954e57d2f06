// Running a connection's operation on the connection's executor, from wherever the caller
// runs: a handler of another route, on an io_context that several threads run, is on a
// strand of its own.
#ifndef COURIER_SRC_BROKER_RUN_ON_HPP
#define COURIER_SRC_BROKER_RUN_ON_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace courier::broker {

/// Awaits `make()` on `executor`: directly when the caller already runs there (one thread,
/// or the same strand), else as a coroutine spawned there, whose result or exception the
/// caller gets back on its own executor.
template <class Make> auto run_on(boost::asio::any_io_executor executor, Make make) -> decltype(make())
{
    // Named: GCC 12 miscompiles a temporary of a co_await expression.
    const auto here = co_await boost::asio::this_coro::executor;
    if (here == executor)
        co_return co_await make();
    co_return co_await boost::asio::co_spawn(executor, make(), boost::asio::use_awaitable);
}

} // namespace courier::broker

#endif
