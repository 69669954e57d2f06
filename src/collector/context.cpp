// The type-keyed values of a collector's context.
#include <courier/collector/context.hpp>
#include <courier/collector/errc.hpp>
#include <courier/error.hpp>

#include <boost/core/demangle.hpp>

#include <algorithm>

namespace courier::event_collector {

void context::put(std::type_index type, std::shared_ptr<void> value)
{
    for (auto& s : slots_)
        if (s.type == type)
        {
            s.value = std::move(value);
            return;
        }
    slots_.push_back(slot{type, std::move(value)});
}

void* context::find_raw(std::type_index type) const noexcept
{
    for (const auto& s : slots_)
        if (s.type == type)
            return s.value.get();
    return nullptr;
}

bool context::erase_raw(std::type_index type) noexcept
{
    const auto it = std::find_if(slots_.begin(), slots_.end(), [&](const slot& s) { return s.type == type; });
    if (it == slots_.end())
        return false;
    slots_.erase(it);
    return true;
}

void context::throw_missing(const std::type_info& type) const
{
    throw courier::error(errc::bad_value, "the collector's context holds no " + boost::core::demangle(type.name()) +
                                              " (store it in the lifecycle setup, or before the queue starts)");
}

} // namespace courier::event_collector
