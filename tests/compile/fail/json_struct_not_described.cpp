// expect: courier::json: declare the struct with BOOST_DESCRIBE_STRUCT
#include <courier/courier.hpp>

struct order
{
    std::string id{};
};

void add(courier::manager& mgr, std::shared_ptr<courier::memory_provider> q)
{
    mgr.add_route("orders", q, courier::json<order>{}, [](order) {});
}
