// What a handler and an error handler know about the message they are working on.
#ifndef COURIER_CONTEXT_HPP
#define COURIER_CONTEXT_HPP

#include <courier/logger.hpp>
#include <courier/message.hpp>
#include <courier/typed_values.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string_view>

namespace courier {

/// Per-message context passed to handlers and error handlers.
///
/// Lifetime: valid until the handler (or error handler) returns; copy what you need
/// to keep. Thread safety: used by one message's processing only.
class context
{
public:
    context(const message& raw, std::string_view route, const courier::logger& log,
            const boost::asio::any_io_executor& blocking_executor) noexcept
        : raw_(raw),
          route_(route),
          log_(log),
          blocking_executor_(blocking_executor)
    {
    }

    /// The message as the provider delivered it: body, attributes, id, receive count,
    /// provider metadata.
    const message& raw() const noexcept { return raw_; }
    /// The id of the message (shortcut for `raw().id`).
    std::string_view message_id() const noexcept { return raw_.id; }
    /// The name of the route handling it.
    std::string_view route() const noexcept { return route_; }

    /// Logs a line tagged with this route and message id.
    template <class... Args> void log(log_level level, fmt::format_string<Args...> format, Args&&... args) const
    {
        log_.log(level, route_, raw_.id, format, std::forward<Args>(args)...);
    }
    const courier::logger& logger() const noexcept { return log_; }

    /// The bounded thread pool that runs plain (non-coroutine) handlers.
    const boost::asio::any_io_executor& blocking_executor() const noexcept { return blocking_executor_; }

    /// Values handed along with this message, by type: what an envelope pipeline read for
    /// the handler (a correlation id, a tenant). Created on first use.
    typed_values& values()
    {
        if (!values_)
            values_ = std::make_unique<typed_values>();
        return *values_;
    }
    /// The `V` among `values()`, or null; never creates the store.
    template <class V> const V* find_value() const noexcept { return values_ ? values_->find<V>() : nullptr; }

private:
    const message& raw_;
    std::string_view route_;
    const courier::logger& log_;
    // A reference: the pool belongs to the dispatcher, which outlives every handler, and
    // copying a type-erased executor per message is measurable.
    const boost::asio::any_io_executor& blocking_executor_;
    // Most messages carry no values: the store costs nothing until asked for.
    std::unique_ptr<typed_values> values_;
};

} // namespace courier

#endif
