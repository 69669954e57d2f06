// expect: courier: an error handler must be callable as courier::error_action(const courier::context&
#include <courier/courier.hpp>

void add(courier::manager& mgr, std::shared_ptr<courier::memory_provider> q)
{
    mgr.add_route("orders", q, [](const courier::message&) -> boost::asio::awaitable<void> { co_return; },
                  {.on_error = [](const courier::context&, std::exception_ptr) {}});
}
