// A service written as the README writes one, compiled with the warnings a strict project
// turns on (see meson.build here): the templates a user instantiates (routes with typed
// JSON, coroutine and plain handlers, error handlers, options by designated initializers)
// must not warn in courier's headers.
#include "all_public_headers.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace strict {

struct line
{
    std::string sku{};
    int quantity = 0;
    double price = 0;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, quantity, price))

struct order
{
    std::string id{};
    std::vector<line> lines{};
    std::optional<std::string> note{};
    std::map<std::string, std::string> tags{};
    std::int64_t created = 0;
    bool urgent = false;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, lines, note, tags, created, urgent))

int build_service()
{
    courier::manager_options options;
    options.dispatch.shutdown_deadline = 5s;
    courier::manager mgr(options);
    auto orders = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.name = "orders"});
    mgr.add_route("orders", orders, courier::json<order>{},
                  [](order o, courier::context& ctx) -> asio::awaitable<void> {
                      ctx.log(courier::log_level::info, "order {} with {} lines", o.id, o.lines.size());
                      co_return;
                  },
                  {.max_in_flight = 8, .on_error = [](const courier::context& ctx, std::exception_ptr e) {
                       ctx.log(courier::log_level::warning, "{}", courier::error_text(e, ctx));
                       return courier::error_action::ack();
                   }});
    mgr.add_route("plain", orders, [](const courier::message& m) { (void)m.body.size(); },
                  {.on_error = courier::retry_with_backoff({.base = 100ms, .max = 10s})});
    const std::string body =
        courier::json_encode(order{.id = "o-1", .lines = {{.sku = "a", .quantity = 2, .price = 1.5}}});
    orders->send(body);
    return mgr.run();
}

} // namespace strict

// Referenced so that nothing above is dropped unchecked.
int (*const strict_build_service)() = &strict::build_service;
