// A collector's context: the user's own values for one collector (a repository, a file,
// running totals), kept from its lifecycle setup through every payload to its teardown.
//
// The seed's Context takes attributes of any name and type (`ctx.repository = ...`).
// Here values are keyed by their type, so reading one back needs no cast and cannot get
// the type wrong: `ctx.emplace<sensor_file>(path)` in setup, `ctx.get<sensor_file>()` in
// the processor. To keep two values of the same type, give each a small struct of its
// own (`struct config_value { std::string text; };`).
#ifndef COURIER_COLLECTOR_CONTEXT_HPP
#define COURIER_COLLECTOR_CONTEXT_HPP

#include <cstddef>
#include <memory>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

namespace courier::event_collector {

/// One value per type, owned by the context.
///
/// References returned stay valid until the value is replaced, erased or the context
/// destroyed (values live on the heap, so adding others does not move them).
/// Thread safety: none of its own. The queue uses a collector's context on its executor
/// only (setup, processors, teardown); code running elsewhere must not touch it.
class context
{
public:
    context() = default;
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    /// Stores a `V` built from `args`, replacing any `V` already there; returns it.
    template <class V, class... Args> V& emplace(Args&&... args)
    {
        auto value = std::make_shared<V>(std::forward<Args>(args)...);
        V& ref = *value;
        put(typeid(V), std::move(value));
        return ref;
    }

    /// The `V` stored, or null.
    template <class V> V* find() const noexcept { return static_cast<V*>(find_raw(typeid(V))); }

    /// The `V` stored; throws `courier::error` (`errc::bad_value`) naming the type if
    /// there is none (a processor running before the setup that should have stored it).
    template <class V> V& get() const
    {
        if (V* v = find<V>())
            return *v;
        throw_missing(typeid(V));
    }

    template <class V> bool contains() const noexcept { return find_raw(typeid(V)) != nullptr; }

    /// Removes the `V` (destroying it); false if there was none.
    template <class V> bool erase() noexcept { return erase_raw(typeid(V)); }

    std::size_t size() const noexcept { return slots_.size(); }
    void clear() noexcept { slots_.clear(); }

private:
    struct slot
    {
        std::type_index type;
        std::shared_ptr<void> value;
    };

    void put(std::type_index type, std::shared_ptr<void> value);
    void* find_raw(std::type_index type) const noexcept;
    bool erase_raw(std::type_index type) noexcept;
    [[noreturn]] void throw_missing(const std::type_info& type) const;

    // A handful of values per collector: a linear search beats any map.
    std::vector<slot> slots_;
};

} // namespace courier::event_collector

#endif
