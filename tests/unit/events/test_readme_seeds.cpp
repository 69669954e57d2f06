// The README's "Events" section: each seed's own example written with courier, compiled and
// run here. The regions between "readme: NAME begin" and "readme: NAME end" appear verbatim
// in README.md (tests/readme_snippets.py checks it), so the README cannot drift from the API.
#include "test_support.hpp"

#include <courier/daemon.hpp>
#include <courier/events.hpp>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <thread>

namespace {

std::mutex seen_mutex;
std::vector<std::string> seen;
// Returns how many were noted, this one included.
std::size_t note(std::string what)
{
    std::lock_guard lock(seen_mutex);
    seen.push_back(std::move(what));
    return seen.size();
}

// readme: eventing begin
// eventing's @event: the name defaults to the type's ("hello_event").
struct hello_event
{
    std::string world;
};
BOOST_DESCRIBE_STRUCT(hello_event, (), (world))

// @event_listener(HelloEvent): any handler shape; here a coroutine with the context.
boost::asio::awaitable<void> hello_listener(const hello_event& event, courier::context& ctx)
{
    ctx.log(courier::log_level::info, "hello, {}", event.world);
    co_return;
}

int eventing(std::shared_ptr<courier::memory_provider> queue)
{
    courier::manager mgr;
    courier::event_bus bus; // send_event: the name travels in the "event_name" attribute
    bus.send_to<hello_event>(queue);
    courier::event_router router; // ... where the router reads it
    router.listen<hello_event>("hello_listener", hello_listener);
    mgr.add_route("hello", queue, router);

    boost::asio::co_spawn(
        mgr.get_executor(),
        [&]() -> boost::asio::awaitable<void> {
            const hello_event event{"world"};
            co_await bus.send(event);
        },
        boost::asio::detached);
    return mgr.run(); // until SIGTERM
}
// readme: eventing end

void do_something(const std::string& message)
{
    // Plain handlers run on the blocking pool: two at once, in either order.
    if (note(message) == 2)
        std::raise(SIGTERM); // the daemon's graceful stop
}

// Under --testing the daemon's queues are in memory: give them what a producer would send.
void send_examples(courier::memory_provider& queue)
{
    for (const char* text : {"first", "second"})
        queue.send(courier::outgoing_message{
            .body = fmt::format(R"({{"message":"{}","timestamp":1.5}})", text),
            .attributes = {{"media_type", {"String", "application/vnd.globality.pubsub.simple"}}}});
}

// readme: microcosm begin
// microcosm-pubsub's @schema: the fields, and the media type that routes to them.
struct simple_schema
{
    static constexpr courier::event_options courier_event{.media_type = "application/vnd.globality.pubsub.simple"};
    std::string message;
    double timestamp = 0;
    // marshmallow's validation: a non-empty text makes the event a translation error.
    std::string validate() const { return message.empty() ? "message must not be empty" : ""; }
};
BOOST_DESCRIBE_STRUCT(simple_schema, (), (message, timestamp))

// @handles(SimpleSchema); the ConsumerDaemon with its flags (--sqs-queue-url, --testing, ...).
int consumer_daemon(int argc, const char* const argv[])
{
    courier::daemon daemon("example", "Handles simple messages.");
    daemon.parse_or_exit(argc, argv);
    courier::manager mgr(daemon.manager_options());
    courier::event_router router({.where = courier::event_name_location::media_type_attribute()});
    router.listen<simple_schema>("simple_handler", [](const simple_schema& m) { do_something(m.message); });
    for (auto& queue : daemon.make_queues(daemon.make_sqs_client(mgr.get_executor())))
    {
        if (queue.memory)
            send_examples(*queue.memory);
        mgr.add_route(queue.name, queue.source, router,
                      daemon.route_options({.on_error = courier::retry_with_backoff()}));
    }
    return mgr.run();
}
// readme: microcosm end

// readme: choreographer begin
// briefy-choreographer: {"event_name": "lead.created", "data": {...}} in the body; every
// subscriber of the internal event runs, the logger among them.
struct lead_created
{
    static constexpr courier::event_options courier_event{.name = "lead.created"};
    std::string id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email))

struct welcome_mail
{
    std::string to;
};
BOOST_DESCRIBE_STRUCT(welcome_mail, (), (to))

courier::event_router choreography(courier::event_bus& outputs)
{
    courier::event_router router({.where = courier::event_name_location::body_member("event_name", "data")});
    router.listen_all("logger", [](const courier::event_descriptor& event, courier::context& ctx) {
        ctx.log(courier::log_level::info, "internal event {} fired", event.name);
    });
    router.listen<lead_created>(
        "welcome", [&outputs](const lead_created& lead, courier::context& ctx) -> boost::asio::awaitable<void> {
            const welcome_mail mail{lead.email};
            co_await outputs.send(mail, ctx); // acknowledged only once the mail is queued
        });
    return router;
}
// readme: choreographer end

} // namespace

TEST_CASE("readme seeds: eventing's HelloEvent, its listener and send_event")
{
    auto queue = std::make_shared<courier::memory_provider>(
        courier::memory_queue_options{.receive_wait = std::chrono::milliseconds(20)});
    std::thread stopper([&] {
        // The listener logs; the queue tells when it was acknowledged.
        for (int i = 0; i < 500 && queue->counts().acked == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::raise(SIGTERM);
    });
    CHECK(eventing(queue) == courier::exit_ok);
    stopper.join();
    CHECK(queue->counts().acked == 1);
    CHECK(queue->empty());
}

TEST_CASE("readme seeds: microcosm's schema, @handles and the daemon, under --testing")
{
    seen.clear();
    const char* argv[] = {"example", "--testing"};
    CHECK(consumer_daemon(2, argv) == courier::exit_ok);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"first", "second"});
}

TEST_CASE_FIXTURE(courier_test::dispatcher_fixture, "readme seeds: the choreographer's event, subscribers and logger")
{
    auto input = queue({.name = "input"});
    auto mail = queue({.name = "mail"});
    input->send(R"({"event_name":"lead.created","data":{"id":"L1","email":"a@example.com"}})");
    courier::event_bus outputs;
    outputs.send_to<welcome_mail>(mail);
    std::vector<courier::route> routes;
    routes.emplace_back("choreographer", input, choreography(outputs));
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return input->empty(); });
    CHECK(logs.contains("INFO [choreographer] input-1 internal event lead.created fired"));
    REQUIRE(mail->counts().visible == 1);
}
