// The README's code sample, compiled and run: if the README drifts from the API, this
// file stops building.
#include "test_support.hpp"

#include <thread>

namespace {

// ---- as in README.md, "A service in a dozen lines" (main renamed, a stop added) ----
struct order
{
    std::string id;
    int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, quantity))

int readme_main(std::shared_ptr<courier::memory_provider> queue, std::atomic<int>& handled)
{
    courier::manager mgr; // io_context + SIGINT/SIGTERM

    mgr.add_route("orders", queue, courier::json<order>{},
                  [&](order o, courier::context& ctx) -> boost::asio::awaitable<void> {
                      ctx.log(courier::log_level::info, "order {} x {}", o.id, o.quantity);
                      if (++handled == 3)
                          mgr.stop(); // the README's service runs until SIGTERM
                      co_return;      // returning = success = ack
                  },
                  {.max_in_flight = 32, .on_error = courier::retry_with_backoff()});

    return mgr.run(); // until SIGTERM, then a graceful stop
}

} // namespace

TEST_CASE("readme: the dozen-line service runs and acks what it handled")
{
    auto queue = std::make_shared<courier::memory_provider>(
        courier::memory_queue_options{.receive_wait = std::chrono::milliseconds(50)});
    for (int i = 1; i <= 3; ++i)
        queue->send(fmt::format(R"({{"id":"o-{}","quantity":{}}})", i, i));
    std::atomic<int> handled{0};
    CHECK(readme_main(queue, handled) == courier::exit_ok);
    CHECK(handled == 3);
    CHECK(queue->empty());
}
