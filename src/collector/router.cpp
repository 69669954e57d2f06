// What a custom router sees of the queue's collectors.
#include "collector/queue_impl.hpp"

#include <courier/collector/router.hpp>

#include <algorithm>

namespace courier::event_collector {

std::size_t collector_set::size() const noexcept
{
    return core_.collectors().size();
}

const std::string& collector_set::key(std::size_t i) const
{
    return core_.collectors().at(i).key;
}

const std::vector<std::string>& collector_set::topics(std::size_t i) const
{
    return core_.collectors().at(i).topics;
}

std::optional<std::size_t> collector_set::find(std::string_view key) const noexcept
{
    const auto& all = core_.collectors();
    const auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.key == key; });
    if (it == all.end())
        return std::nullopt;
    return static_cast<std::size_t>(it - all.begin());
}

std::vector<std::size_t> collector_set::select(event_collector::delivery how, const std::vector<std::string>& keys,
                                               const std::vector<std::string>& topics) const
{
    std::vector<std::size_t> chosen;
    detail::select_collectors(core_.collectors(), how, keys, topics, chosen);
    return chosen;
}

boost::asio::awaitable<result_list> collector_set::deliver(std::vector<std::size_t> which) const
{
    return core_.deliver(event_, std::move(which));
}

} // namespace courier::event_collector
