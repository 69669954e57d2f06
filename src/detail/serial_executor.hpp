// Strands that do not allocate whenever they are copied.
//
// `any_io_executor` stores an executor of up to 24 bytes in place and anything bigger on the
// heap, behind a shared pointer. A `strand<any_io_executor>` is 72 bytes, so every copy,
// `prefer` and `require` of an `any_io_executor` holding one allocated, and Asio makes
// several of those per completion: measured 39 allocations per message on the SQS path. A
// strand over the io_context's own executor type is 24 bytes and is stored in place.
#ifndef COURIER_SRC_DETAIL_SERIAL_EXECUTOR_HPP
#define COURIER_SRC_DETAIL_SERIAL_EXECUTOR_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace courier::detail {

/// Whether `ctx` was built with a concurrency hint that promises one thread at a time
/// (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE or _UNSAFE_IO, as `courier::manager` builds its own
/// io_context for one thread): then every handler already runs one at a time, in order.
inline bool runs_one_thread_at_a_time(boost::asio::io_context& ctx)
{
#if defined(BOOST_ASIO_HAS_IOCP)
    (void)ctx;
    return false;
#else
    // The io_context's implementation is the scheduler service; its hint is not exposed
    // otherwise.
    const int hint = boost::asio::use_service<boost::asio::detail::scheduler>(ctx).concurrency_hint();
    return !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
#endif
}

/// An executor whose handlers run one at a time, in order: `ex` itself on an io_context
/// that runs one thread at a time (a strand there would only add its own queue and lock),
/// else a strand over its io_context executor when `ex` holds one (the common case), else
/// a strand over `ex` itself.
inline boost::asio::any_io_executor make_serial(const boost::asio::any_io_executor& ex)
{
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>())
    {
        if (runs_one_thread_at_a_time(boost::asio::query(*io, boost::asio::execution::context)))
            return *io;
        return boost::asio::make_strand(*io);
    }
    return boost::asio::make_strand(ex);
}

} // namespace courier::detail

#endif
