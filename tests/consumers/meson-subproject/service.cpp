// File: service.cpp — the service every consumer project in tests/consumers builds, each with
// its own build system (meson + pkg-config, CMake + find_package, meson + subproject), from an
// installed or vendored courier: a daemon with courier's shared flags that, run with
// --testing, puts one greeting on its memory queue, handles it, stops gracefully and exits 0.
// Anything else (not handled, handled twice, a failed stop) exits 1.
#include <courier/courier.hpp>
#include <courier/daemon.hpp>

#include <iostream>
#include <string>

struct greeting
{
    std::string name;
};
BOOST_DESCRIBE_STRUCT(greeting, (), (name))

int main(int argc, char** argv)
{
    courier::daemon daemon("consumer", "A tiny courier service: greets whoever its queue names.");
    daemon.parse_or_exit(argc, argv);

    courier::manager mgr(daemon.manager_options());
    int handled = 0;
    for (auto& queue : daemon.make_queues(daemon.make_sqs_client(mgr.get_executor())))
    {
        if (queue.memory)
            queue.memory->send(R"({"name": "courier"})");
        mgr.add_route(
            queue.name, queue.source, courier::json<greeting>{},
            [&](greeting g, courier::context& ctx) -> boost::asio::awaitable<void> {
                ctx.log(courier::log_level::info, "hello, {}", g.name);
                if (++handled == 1)
                    mgr.stop();
                co_return;
            },
            daemon.route_options());
    }
    const int status = mgr.run();
    std::cout << "consumer: handled " << handled << ", exit status " << status << '\n';
    return status == courier::exit_ok && handled == 1 ? 0 : 1;
}
