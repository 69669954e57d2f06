// File: quickstart.cpp — a small courier service on the in-memory queue.
//
// Two routes: "orders" decodes typed JSON and handles it in a coroutine; "payments"
// fails some messages on their first delivery and retries them with backoff. A
// producer coroutine feeds both queues; once every message is settled the service
// stops itself, exactly as SIGTERM would stop it, and prints what happened.
#include <courier/courier.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/core.h>

#include <iostream>

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct order
{
    std::string id;
    std::string item;
    int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, item, quantity))

// Simulates I/O (a database write, an HTTP call) without blocking the event loop.
asio::awaitable<void> pretend_io(std::chrono::milliseconds d)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

int main_impl()
{
    constexpr int order_count = 20;
    constexpr int payment_count = 10;

    courier::manager mgr;
    auto orders = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.name = "orders"});
    auto payments = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.name = "payments"});

    // Route 1: typed JSON. A body that does not match `order` goes to the error
    // handler, which deletes it: retrying cannot fix a malformed message.
    mgr.add_route("orders", orders, courier::json<order>{},
                  [](order o, courier::context& ctx) -> asio::awaitable<void> {
                      co_await pretend_io(20ms);
                      ctx.log(courier::log_level::info, "order {}: {} x {}", o.id, o.quantity, o.item);
                  },
                  {.max_in_flight = 5, .on_error = [](const courier::context& ctx, std::exception_ptr e) {
                       ctx.log(courier::log_level::warning, "dropping malformed order: {}",
                               courier::error_text(e, ctx));
                       return courier::error_action::ack();
                   }});

    // Route 2: every third payment fails on its first delivery; retry_with_backoff makes
    // it visible again after a short, growing delay.
    mgr.add_route("payments", payments,
                  [](const courier::message& m, courier::context& ctx) -> asio::awaitable<void> {
                      co_await pretend_io(10ms);
                      if (std::stoi(m.body) % 3 == 0 && m.receive_count == 1)
                          throw std::runtime_error("payment gateway timed out");
                      ctx.log(courier::log_level::info, "payment {} captured (delivery {})", m.body, m.receive_count);
                  },
                  {.on_error = courier::retry_with_backoff({.base = 100ms, .max = 1s})});

    // The producer: what another service would do, here in the same process.
    asio::co_spawn(
        mgr.get_executor(),
        [&]() -> asio::awaitable<void> {
            for (int i = 1; i <= order_count; ++i)
            {
                orders->send(fmt::format(R"({{"id":"o-{}","item":"widget","quantity":{}}})", i, i));
                if (i <= payment_count)
                    payments->send(std::to_string(i));
                co_await pretend_io(5ms);
            }
            orders->send(R"({"id":"o-bad","quantity":"lots"})");
            // Stop once everything is settled (a real service runs until SIGTERM).
            while (!(orders->empty() && payments->empty()))
                co_await pretend_io(20ms);
            mgr.stop();
        },
        asio::detached);

    const int code = mgr.run();

    fmt::print("\n{:<10} {:>8} {:>8} {:>8} {:>8} {:>8}\n", "route", "received", "handled", "failed", "retried",
               "acked");
    for (const auto& r : mgr.routes())
    {
        const auto& s = r.stats();
        fmt::print("{:<10} {:>8} {:>8} {:>8} {:>8} {:>8}\n", r.name(), s.received, s.handled, s.failed, s.retried,
                   s.acked);
    }
    fmt::print("exit code {}\n", code);
    return code;
}

int main()
{
    try
    {
        return main_impl();
    }
    catch (const courier::error& e)
    {
        std::cerr << "courier error: " << e.what() << '\n';
    }
    catch (const std::exception& e)
    {
        std::cerr << "error: " << e.what() << '\n';
    }
    return 1;
}
