// What a collector's processor returns, and what a payload's event gives back: `result`
// (the seed's Ok(value) / Error(exception)) and `result_list` (its ResultList).
//
//     co_return ec::ok(average);                        // Ok(value)
//     co_return ec::ok();                               // Ok without a value
//     co_return ec::error(out_of_range{"140 °C"});      // Error(exception)
//
// An exception thrown by a processor becomes an Error result too; it never reaches the
// queue. Each result names the collector that produced it (`key()`).
//
// Why the value is a `std::any` and not a template parameter: one payload goes to several
// collectors whose processors return different things (a line number, an average,
// nothing), and their results travel together in one result list. A typed result would
// force one value type on every collector of a queue, or a variant the user keeps in
// step with the collectors. `value<V>()` gives the typed value back, checked.
#ifndef COURIER_COLLECTOR_RESULT_HPP
#define COURIER_COLLECTOR_RESULT_HPP

#include <any>
#include <concepts>
#include <cstddef>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace courier::event_collector {

class result;
/// Ok holding an already type-erased value.
result ok_with(std::any value);
/// Error(exception). A null pointer becomes a `courier::error` saying so: an Error
/// always carries an exception.
result error(std::exception_ptr e);

/// One collector's outcome for one payload: Ok (with or without a value) or Error (an
/// exception).
///
/// Thread safety: a value; distinct objects are independent, and a const object may be
/// read from several threads.
class result
{
public:
    /// Ok without a value.
    result() = default;

    bool is_ok() const noexcept { return !error_; }
    bool is_error() const noexcept { return static_cast<bool>(error_); }
    /// True for an Ok that carries a value.
    bool has_value() const noexcept { return value_.has_value(); }

    /// The Ok value, type-erased (empty for an Error or an Ok without value).
    const std::any& value() const noexcept { return value_; }

    /// The Ok value as a `V`. An Error rethrows its exception; an Ok holding no `V`
    /// throws `courier::error` (`errc::bad_value`) naming the collector and both types.
    template <class V> const V& value() const
    {
        rethrow_if_error();
        if (const V* v = std::any_cast<V>(&value_))
            return *v;
        throw_bad_value(typeid(V));
    }

    /// The exception of an Error (null for an Ok).
    const std::exception_ptr& error() const noexcept { return error_; }
    /// The Error's `what()` ("" for an Ok).
    std::string error_message() const;
    /// Rethrows the exception of an Error; does nothing for an Ok.
    void rethrow_if_error() const;

    /// The key of the collector that produced this result; empty for an outcome of the
    /// queue itself (a payload cancelled before any collector got it).
    const std::string& key() const noexcept { return key_; }
    /// Names the collector (the queue does it for every result a processor returns).
    void set_key(std::string key) { key_ = std::move(key); }

private:
    friend result event_collector::ok_with(std::any value);
    friend result event_collector::error(std::exception_ptr e);

    [[noreturn]] void throw_bad_value(const std::type_info& wanted) const;

    std::string key_;
    std::any value_;
    std::exception_ptr error_;
};

/// Ok without a value.
inline result ok()
{
    return {};
}

/// Ok(value). The value must be copyable (it is kept in a `std::any`); a string literal
/// is kept as a `std::string`.
template <class V>
requires(!std::same_as<std::decay_t<V>, std::any>) result ok(V&& value)
{
    using stored =
        std::conditional_t<std::is_convertible_v<std::decay_t<V>, const char*>, std::string, std::decay_t<V>>;
    return ok_with(std::any(stored(std::forward<V>(value))));
}

/// Error(exception), from the exception object itself.
template <class E>
requires std::derived_from<std::decay_t<E>, std::exception> result error(E&& e)
{
    return error(std::make_exception_ptr(std::forward<E>(e)));
}

/// The results of one payload, one per collector it went to, in the order of the
/// queue's collectors (or the order a custom router gave). An empty list means the
/// payload matched no collector, which is a success: `all_ok()` is true and `first()`
/// is an Ok without value, as the seed's "empty Ok result".
///
/// Cheap to copy: copies share the (immutable) results.
/// Thread safety: a const list may be read from several threads.
class result_list
{
public:
    using const_iterator = const result*;

    /// Empty: delivered nowhere.
    result_list() = default;
    /// A list of these results (what a custom router returns).
    explicit result_list(std::vector<result> results);
    /// A view of `items`, kept alive by `owner` (how an event hands out its results
    /// without copying them).
    result_list(std::shared_ptr<const void> owner, std::span<const result> items) noexcept
        : owner_(std::move(owner)),
          items_(items)
    {
    }

    /// The first result; for an empty list, an Ok without value.
    const result& first() const noexcept;
    /// True if no result is an Error (so also for an empty list).
    bool all_ok() const noexcept;
    /// The Error results, in order.
    std::vector<result> errors() const;
    /// The result of the collector with this key, or null.
    const result* find(std::string_view key) const noexcept;

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const result& operator[](std::size_t i) const noexcept { return items_[i]; }
    const_iterator begin() const noexcept { return items_.data(); }
    const_iterator end() const noexcept { return items_.data() + items_.size(); }

private:
    std::shared_ptr<const void> owner_;
    std::span<const result> items_;
};

} // namespace courier::event_collector

#endif
