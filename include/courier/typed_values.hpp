// Values keyed by their type: what a handler's context carries for one message (a
// correlation id an envelope pipeline read, a session), and what a collector's context
// keeps for one collector.
//
// Keyed by type, reading a value back needs no cast and cannot get the type wrong:
// `values.emplace<session>(id)`, later `values.find<session>()`. To keep two values of one
// type, give each a small struct of its own (`struct tenant { std::string name; };`).
#ifndef COURIER_TYPED_VALUES_HPP
#define COURIER_TYPED_VALUES_HPP

#include <cstddef>
#include <memory>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

namespace courier {

/// One value per type, owned here.
///
/// References returned stay valid until the value is replaced, erased or the store
/// destroyed (values live on the heap, so adding others does not move them).
/// Thread safety: none of its own.
class typed_values
{
public:
    typed_values() = default;
    typed_values(const typed_values&) = delete;
    typed_values& operator=(const typed_values&) = delete;

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

    template <class V> bool contains() const noexcept { return find_raw(typeid(V)) != nullptr; }

    /// Removes the `V` (destroying it); false if there was none.
    template <class V> bool erase() noexcept { return erase_raw(typeid(V)); }

    std::size_t size() const noexcept { return slots_.size(); }
    bool empty() const noexcept { return slots_.empty(); }
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

    // A handful of values: a linear search beats any map.
    std::vector<slot> slots_;
};

} // namespace courier

#endif
