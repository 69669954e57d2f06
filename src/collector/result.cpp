// Results, result lists, and the exception a route bridge throws.
#include <courier/collector/errc.hpp>
#include <courier/collector/result.hpp>
#include <courier/collector/route_bridge.hpp>
#include <courier/error.hpp>

#include <boost/core/demangle.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace courier::event_collector {

result ok_with(std::any value)
{
    result r;
    r.value_ = std::move(value);
    return r;
}

result error(std::exception_ptr e)
{
    result r;
    r.error_ =
        e ? std::move(e)
          : std::make_exception_ptr(courier::error(errc::bad_value, "a processor returned an Error without exception"));
    return r;
}

std::string result::error_message() const
{
    return error_ ? courier::error_text(error_) : std::string();
}

void result::rethrow_if_error() const
{
    if (error_)
        std::rethrow_exception(error_);
}

void result::throw_bad_value(const std::type_info& wanted) const
{
    const auto held = value_.has_value() ? boost::core::demangle(value_.type().name()) : std::string("no value");
    throw courier::error(errc::bad_value, fmt::format("the result of collector '{}' holds {}, not a {}", key_, held,
                                                      boost::core::demangle(wanted.name())));
}

namespace {

const result& empty_ok()
{
    static const result instance;
    return instance;
}

} // namespace

result_list::result_list(std::vector<result> results)
{
    auto owned = std::make_shared<const std::vector<result>>(std::move(results));
    items_ = std::span<const result>(*owned);
    owner_ = std::move(owned);
}

const result& result_list::first() const noexcept
{
    return items_.empty() ? empty_ok() : items_.front();
}

bool result_list::all_ok() const noexcept
{
    return std::all_of(begin(), end(), [](const result& r) { return r.is_ok(); });
}

std::vector<result> result_list::errors() const
{
    std::vector<result> out;
    for (const auto& r : *this)
        if (r.is_error())
            out.push_back(r);
    return out;
}

const result* result_list::find(std::string_view key) const noexcept
{
    const auto it = std::find_if(begin(), end(), [&](const result& r) { return r.key() == key; });
    return it == end() ? nullptr : it;
}

namespace {

// "2 of 3 collectors failed: range-check: 140 out of range; file-appender: disk full"
std::string describe_failures(const result_list& results)
{
    std::string text;
    std::size_t failed = 0;
    for (const auto& r : results)
    {
        if (r.is_ok())
            continue;
        text += failed++ == 0 ? ": " : "; ";
        text += r.key().empty() ? std::string("(queue)") : r.key();
        text += ": ";
        text += r.error_message();
    }
    return fmt::format("{} of {} collector{} failed{}", failed, results.size(), results.size() == 1 ? "" : "s", text);
}

} // namespace

collectors_failed::collectors_failed(result_list results, error_context where)
    : courier::error(errc::collectors_failed, describe_failures(results), std::move(where)),
      results_(std::move(results))
{
}

const collectors_failed* find_collectors_failed(const std::exception_ptr& error) noexcept
{
    if (!error)
        return nullptr;
    try
    {
        std::rethrow_exception(error);
    }
    catch (const collectors_failed& e)
    {
        // The exception object lives as long as `error` refers to it.
        return &e;
    }
    catch (...)
    {
        return nullptr;
    }
}

} // namespace courier::event_collector
