// expect: courier: a handler must be callable as one of
#include <courier/courier.hpp>

void add(courier::manager& mgr, std::shared_ptr<courier::memory_provider> q)
{
    mgr.add_route("orders", q, [](int, int) {});
}
