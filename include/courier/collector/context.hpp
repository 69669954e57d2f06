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

#include <courier/typed_values.hpp>

#include <typeinfo>

namespace courier::event_collector {

/// One value per type, owned by the context (see `courier::typed_values`).
///
/// Thread safety: none of its own. The queue uses a collector's context on its executor
/// only (setup, processors, teardown); code running elsewhere must not touch it.
class context : public typed_values
{
public:
    /// The `V` stored; throws `courier::error` (`errc::bad_value`) naming the type if
    /// there is none (a processor running before the setup that should have stored it).
    template <class V> V& get() const
    {
        if (V* v = find<V>())
            return *v;
        throw_missing(typeid(V));
    }

private:
    [[noreturn]] void throw_missing(const std::type_info& type) const;
};

} // namespace courier::event_collector

#endif
