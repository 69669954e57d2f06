// The type-keyed value store (see typed_values.hpp).
#include <courier/typed_values.hpp>

#include <algorithm>

namespace courier {

void typed_values::put(std::type_index type, std::shared_ptr<void> value)
{
    for (auto& s : slots_)
        if (s.type == type)
        {
            s.value = std::move(value);
            return;
        }
    slots_.push_back(slot{type, std::move(value)});
}

void* typed_values::find_raw(std::type_index type) const noexcept
{
    for (const auto& s : slots_)
        if (s.type == type)
            return s.value.get();
    return nullptr;
}

bool typed_values::erase_raw(std::type_index type) noexcept
{
    const auto it = std::find_if(slots_.begin(), slots_.end(), [&](const slot& s) { return s.type == type; });
    if (it == slots_.end())
        return false;
    slots_.erase(it);
    return true;
}

} // namespace courier
