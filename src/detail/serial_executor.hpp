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

/// A strand over `ex`: over its io_context executor when `ex` holds one (the common case),
/// else over `ex` itself. Handlers posted to the result run one at a time, in order.
inline boost::asio::any_io_executor make_serial(const boost::asio::any_io_executor& ex)
{
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>())
        return boost::asio::make_strand(*io);
    return boost::asio::make_strand(ex);
}

} // namespace courier::detail

#endif
