// expect: courier::json: a member's type is not supported
#include <courier/courier.hpp>

#include <chrono>

// An enum without BOOST_DESCRIBE_ENUM: courier cannot know its names.
enum class status
{
    placed,
    shipped
};

struct order
{
    std::string id{};
    status state{};
};
BOOST_DESCRIBE_STRUCT(order, (), (id, state))

void add(courier::manager& mgr, std::shared_ptr<courier::memory_provider> q)
{
    mgr.add_route("orders", q, courier::json<order>{}, [](order) {});
}
