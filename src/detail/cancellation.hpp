// Telling a cancellation apart from a failure, for code that catches everything.
#ifndef COURIER_SRC_DETAIL_CANCELLATION_HPP
#define COURIER_SRC_DETAIL_CANCELLATION_HPP

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <exception>

namespace courier::detail {

/// True if `error` is Asio's operation_aborted: the operation was cancelled, nothing failed.
inline bool is_operation_aborted(std::exception_ptr error) noexcept
{
    if (!error)
        return false;
    try
    {
        std::rethrow_exception(error);
    }
    catch (const boost::system::system_error& e)
    {
        return e.code() == boost::asio::error::operation_aborted;
    }
    catch (...)
    {
        return false;
    }
}

} // namespace courier::detail

#endif
