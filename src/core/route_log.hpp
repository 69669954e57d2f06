// A route's log lines: the logger with the route's name bound, so that a line is written as
// `log(level, "text")` for the route, or `log(level, msg, "text")` for one of its messages.
#ifndef COURIER_SRC_CORE_ROUTE_LOG_HPP
#define COURIER_SRC_CORE_ROUTE_LOG_HPP

#include <courier/logger.hpp>
#include <courier/message.hpp>

#include <string_view>
#include <utility>

namespace courier::detail {

class route_log
{
public:
    route_log(const logger& log, std::string_view route) noexcept
        : log_(log),
          route_(route)
    {
    }

    /// A line about the route.
    template <class... Args> void operator()(log_level level, fmt::format_string<Args...> format, Args&&... args) const
    {
        log_.log(level, route_, {}, format, std::forward<Args>(args)...);
    }

    /// A line about one of its messages.
    template <class... Args>
    void operator()(log_level level, const message& msg, fmt::format_string<Args...> format, Args&&... args) const
    {
        log_.log(level, route_, msg.id, format, std::forward<Args>(args)...);
    }

    const courier::logger& underlying() const noexcept { return log_; }
    std::string_view route() const noexcept { return route_; }

private:
    const courier::logger& log_;
    std::string_view route_;
};

} // namespace courier::detail

#endif
