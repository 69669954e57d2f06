// The event router on the memory queue under simulated time: where names are read, many
// listeners with failures and retries, unknown names, validation errors, pipelines.
#include "test_support.hpp"

#include <courier/events.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

using namespace courier_test;

namespace {

using fixture = dispatcher_fixture;

struct lead_created
{
    static constexpr courier::event_options courier_event{.name = "lead.created",
                                                          .media_type = "application/vnd.lead.created"};
    std::string id;
    std::string email;
};
BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email))

struct lead_deleted
{
    static constexpr courier::event_options courier_event{.name = "lead.deleted"};
    std::string id;
};
BOOST_DESCRIBE_STRUCT(lead_deleted, (), (id))

// Named after its type: "hello_event".
struct hello_event
{
    std::string greeting;
};
BOOST_DESCRIBE_STRUCT(hello_event, (), (greeting))

namespace other {
struct hello_event
{
    int n = 0;
};
BOOST_DESCRIBE_STRUCT(hello_event, (), (n))
} // namespace other

courier::outgoing_message with_name(std::string body, std::string attribute, std::string name)
{
    return {.body = std::move(body), .attributes = {{std::move(attribute), {"String", std::move(name)}}}};
}

// The text of a listener failure, or of any exception.
std::string text_of(std::exception_ptr e)
{
    return courier::error_text(e);
}

} // namespace

TEST_CASE("events: an event's name is declared, or its type's unqualified name")
{
    CHECK(courier::describe_event<lead_created>().name == "lead.created");
    CHECK(courier::describe_event<lead_created>().media_type == "application/vnd.lead.created");
    CHECK(courier::describe_event<hello_event>().name == "hello_event");
    CHECK(courier::describe_event<other::hello_event>().name == "hello_event");
    CHECK(courier::describe_event<hello_event>().type == typeid(hello_event));
}

TEST_CASE("events: two types with one name, a listener name twice, or a missing media type are refused")
{
    courier::event_router router;
    router.listen<hello_event>("a", [](const hello_event&) {});
    auto e = error_from([&] { router.listen<other::hello_event>("b", [](const other::hello_event&) {}); });
    CHECK(e.code() == courier::errc::bad_configuration);
    CHECK(
        contains(e.what(), "::hello_event and (anonymous namespace)::other::hello_event are both event 'hello_event'"));
    e = error_from([&] { router.listen<hello_event>("a", [](const hello_event&) {}); });
    CHECK(contains(e.what(), "event 'hello_event' has a listener named 'a' already"));

    courier::event_router by_media_type({.where = courier::event_name_location::media_type_attribute()});
    by_media_type.add_event<lead_created>();
    e = error_from([&] { by_media_type.add_event<lead_deleted>(); });
    CHECK(contains(e.what(), "event 'lead.deleted' declares no media type"));
}

TEST_CASE_FIXTURE(fixture, "events: the name is read from an attribute, a body member (whole body or one member), "
                           "a media type, or fixed for the route")
{
    struct variant
    {
        courier::event_name_location where;
        courier::outgoing_message created;
        courier::outgoing_message deleted;
    };
    const std::vector<variant> variants{
        {courier::event_name_location::attribute(),
         with_name(R"({"id":"L1","email":"a@example.com"})", "event_name", "lead.created"),
         with_name(R"({"id":"L2"})", "event_name", "lead.deleted")},
        {courier::event_name_location::attribute("type"),
         with_name(R"({"id":"L1","email":"a@example.com"})", "type", "lead.created"),
         with_name(R"({"id":"L2"})", "type", "lead.deleted")},
        {courier::event_name_location::body_member("event_name", "data"),
         {.body = R"({"event_name":"lead.created","data":{"id":"L1","email":"a@example.com"}})"},
         {.body = R"({"data":{"id":"L2"},"event_name":"lead.deleted"})"}},
        {courier::event_name_location::body_member("kind"),
         {.body = R"({"kind":"lead.created","id":"L1","email":"a@example.com"})"},
         {.body = R"({"id":"L2","kind":"lead.deleted"})"}},
    };
    for (const auto& v : variants)
    {
        auto q = queue();
        q->send(v.created);
        q->send(v.deleted);
        std::vector<std::string> seen;
        courier::event_router router({.where = v.where});
        router.listen<lead_created>("crm", [&](const lead_created& lead) -> asio::awaitable<void> {
            seen.push_back("created " + lead.id + " " + lead.email);
            co_return;
        });
        router.listen<lead_deleted>("crm", [&](lead_deleted lead, courier::context& ctx) {
            seen.push_back("deleted " + lead.id + " " + std::string(ctx.route()));
        });
        std::vector<courier::route> routes;
        routes.emplace_back("leads", q, router);
        courier::dispatcher d(io.get_executor(), std::move(routes), options());
        run(d, [&] { return q->empty(); });
        CHECK(seen == std::vector<std::string>{"created L1 a@example.com", "deleted L2 leads"});
        CHECK(router.stats().dispatched == 2);
        CHECK(q->counts().acked == 2);
    }

    // microcosm-pubsub: the media type names the event.
    auto q = queue();
    q->send(with_name(R"({"id":"L1","email":"a@example.com"})", "media_type", "application/vnd.lead.created"));
    courier::event_router by_media_type({.where = courier::event_name_location::media_type_attribute()});
    std::string seen;
    by_media_type.listen<lead_created>("crm", [&](const lead_created& lead) { seen = lead.email; });
    // Fixed: the queue holds one event, and nothing names it.
    auto hellos = queue();
    hellos->send(R"({"greeting":"hi"})");
    courier::event_router fixed({.where = courier::event_name_location::fixed("hello_event")});
    std::string greeting;
    fixed.listen<hello_event>("greeter", [&](const hello_event& e) { greeting = e.greeting; });
    std::vector<courier::route> routes;
    routes.emplace_back("leads", q, by_media_type);
    routes.emplace_back("hellos", hellos, fixed);
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty() && hellos->empty(); });
    CHECK(seen == "a@example.com");
    CHECK(greeting == "hi");
}

TEST_CASE_FIXTURE(fixture, "events: every listener runs; a failure names the listener, and the retry runs only the "
                           "listeners that have not succeeded")
{
    auto q = queue({.visibility_timeout = 30s});
    q->send(with_name(R"({"id":"L1","email":"a@example.com"})", "event_name", "lead.created"));
    std::map<std::string, int> runs;
    int mail_failures = 2;
    courier::event_router router;
    router.listen_all("log", [&](const courier::event_descriptor& e, courier::context& ctx) {
        ++runs["log " + e.name + " " + std::to_string(ctx.raw().receive_count)];
    });
    router.listen<lead_created>("crm", [&](const lead_created&) -> asio::awaitable<void> {
        co_await work(*clock, 1s);
        ++runs["crm"];
    });
    router.listen<lead_created>("mail", [&](const lead_created&) -> asio::awaitable<void> {
        ++runs["mail"];
        if (mail_failures-- > 0)
            throw std::runtime_error("mail server down");
        co_return;
    });
    router.listen<lead_created>("audit", [&](const lead_created&) { ++runs["audit"]; });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("leads", q, router,
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            errors.push_back(text_of(e));
                            try
                            {
                                std::rethrow_exception(e);
                            }
                            catch (const courier::event_listener_error& failure)
                            {
                                CHECK(failure.event() == "lead.created");
                                REQUIRE(failure.failures().size() == 1);
                                CHECK(failure.failures()[0].listener == "mail");
                            }
                            return courier::error_action::retry_after(5s);
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    // The subscriber and the listeners that succeeded ran once; mail ran until it succeeded.
    CHECK(runs == std::map<std::string, int>{{"log lead.created 1", 1}, {"crm", 1}, {"mail", 3}, {"audit", 1}});
    CHECK(errors == std::vector<std::string>(2, "listener 'mail' of event 'lead.created' failed: mail server down"));
    CHECK(q->counts().acked == 1);
    CHECK(q->counts().deliveries == 3);
    const auto stats = router.stats();
    CHECK(stats.dispatched == 3);
    CHECK(stats.listener_failures == 2);
    CHECK(stats.listeners_not_rerun == 6); // log, crm and audit, on each of two retries
    CHECK(logs.contains("listener 'crm' of event 'lead.created' succeeded on an earlier delivery: not run again"));
}

TEST_CASE_FIXTURE(fixture, "events: several failures in one error; retry_message from every failing listener "
                           "retries without the error handler; delete_message counts as done")
{
    auto q = queue();
    q->send(with_name(R"({"greeting":"a"})", "event_name", "hello_event"));
    q->send(with_name(R"({"greeting":"b"})", "event_name", "hello_event"));
    courier::event_router router;
    int retries = 0;
    router.listen<hello_event>("first", [&](const hello_event& e) {
        if (e.greeting == "a")
            throw std::runtime_error("first broke");
        if (retries++ == 0)
            throw courier::retry_message(2s, "busy");
    });
    router.listen<hello_event>("second", [&](const hello_event& e) {
        if (e.greeting == "a")
            throw std::logic_error("second broke");
        throw courier::delete_message("not for me");
    });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("hellos", q, router,
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            errors.push_back(text_of(e));
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(errors == std::vector<std::string>{"2 listeners of event 'hello_event' failed: 'first': first broke; "
                                             "'second': second broke"});
    CHECK(retries == 2);
    CHECK(logs.contains("retry requested by the handler: listener 'first' of event 'hello_event' asked for a retry"));
    CHECK(logs.contains("listener 'second' of event 'hello_event' is done with it: not for me"));
    CHECK(q->counts().acked == 2);
}

TEST_CASE_FIXTURE(fixture, "events: an unknown name fails (the error handler decides), is skipped and acknowledged, "
                           "or is left for another consumer")
{
    for (const auto policy : {courier::unknown_event_policy::fail, courier::unknown_event_policy::skip,
                              courier::unknown_event_policy::leave})
    {
        CAPTURE(static_cast<int>(policy));
        auto dead = queue({.name = "dead"});
        auto q = queue({.visibility_timeout = 10s, .max_receive_count = 2, .dead_letter_queue = dead});
        q->send(with_name(R"({"greeting":"hi"})", "event_name", "hello_event"));
        q->send(with_name(R"({"id":"x"})", "event_name", "lead.archived"));
        courier::event_router router({.unknown = policy});
        int hellos = 0;
        router.listen<hello_event>("greeter", [&](const hello_event&) { ++hellos; });
        std::vector<std::string> errors;
        std::vector<courier::route> routes;
        routes.emplace_back("events", q, router,
                            courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                                errors.push_back(text_of(e));
                                return courier::error_action::leave();
                            }});
        courier::dispatcher d(io.get_executor(), std::move(routes), options());
        run(d, [&] { return q->empty(); });
        CHECK(hellos == 1);
        switch (policy)
        {
        case courier::unknown_event_policy::fail:
            // Left by the error handler twice, then moved by the redrive policy: not lost.
            CHECK(errors == std::vector<std::string>(2, "no listener knows event 'lead.archived' (known: hello_event) "
                                                        "[route=events message=memory-2]"));
            CHECK(dead->counts().visible == 1);
            CHECK(router.stats().unknown == 2);
            break;
        case courier::unknown_event_policy::skip:
            CHECK(errors.empty());
            CHECK(dead->counts().visible == 0);
            CHECK(q->counts().acked == 2);
            CHECK(router.stats().unknown == 1);
            CHECK(logs.contains("no listener knows event 'lead.archived': skipped"));
            break;
        case courier::unknown_event_policy::leave:
            // Without the error handler; the redrive policy ends it in the dead-letter queue.
            CHECK(errors.empty());
            CHECK(dead->counts().visible == 1);
            CHECK(logs.contains("left by the handler: no listener knows event 'lead.archived'; left for another "
                                "consumer"));
            break;
        }
    }
}

TEST_CASE_FIXTURE(fixture, "events: a payload that does not decode, or a message without a name, is a translation "
                           "error with the JSON path, and no listener runs")
{
    auto q = queue();
    q->send(R"({"event_name":"lead.created","data":{"id":"L1"}})");
    q->send(R"({"event_name":"lead.created","data":{"id":"L1","email":7}})");
    q->send(R"({"data":{"id":"L1"}})");
    q->send(R"({"event_name":42})");
    q->send(R"({"event_name":"lead.created"})");
    q->send("not json");
    courier::event_router router({.where = courier::event_name_location::body_member("event_name", "data")});
    int runs = 0;
    router.listen_all("log", [&](const courier::event_descriptor&) { ++runs; });
    router.listen<lead_created>("crm", [&](const lead_created&) { ++runs; });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("leads", q, router,
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            CHECK(courier::is_translation_error(e));
                            errors.push_back(text_of(e));
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(runs == 0);
    REQUIRE(errors.size() == 6);
    CHECK(contains(errors[0], "$.data.email: required member is missing"));
    CHECK(contains(errors[1], "$.data.email: expected a string, got"));
    CHECK(contains(errors[2], "$.event_name: required member is missing (the event name)"));
    CHECK(contains(errors[3], "$.event_name: expected a string"));
    CHECK(contains(errors[4], "$.data: required member is missing (the event's payload)"));
    CHECK(contains(errors[5], "[route=leads message=memory-6]"));

    auto unnamed = queue();
    unnamed->send(R"({"greeting":"hi"})");
    courier::event_router by_attribute;
    by_attribute.listen<hello_event>("greeter", [&](const hello_event&) { ++runs; });
    std::string error;
    std::vector<courier::route> more;
    more.emplace_back("hellos", unnamed, by_attribute,
                      courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                          CHECK(courier::is_translation_error(e));
                          error = text_of(e);
                          return courier::error_action::ack();
                      }});
    courier::dispatcher d2(io.get_executor(), std::move(more), options());
    run(d2, [&] { return unnamed->empty(); });
    CHECK(error == "the message has no attribute 'event_name' naming its event [route=hellos message=memory-1]");
}

namespace {

// Records the order pipelines run in, hands a value to the listener, and rejects messages
// marked so.
struct tenant
{
    std::string name;
};

class recording_pipeline final : public courier::envelope_pipeline
{
public:
    recording_pipeline(std::string name, std::vector<std::string>& trace)
        : name_(std::move(name)),
          trace_(trace)
    {
    }

    void on_send(courier::outgoing_envelope& envelope, const courier::event_descriptor& event,
                 const courier::context*) override
    {
        trace_.push_back("send " + name_ + " " + event.name);
        envelope.set_header("via", (envelope.header("via") ? *envelope.header("via") + "," : "") + name_);
    }

    void on_handle(const courier::incoming_envelope& envelope, const courier::listener_descriptor& listener,
                   courier::context& ctx) override
    {
        trace_.push_back("handle " + name_ + " " + std::string(listener.listener));
        if (envelope.header("reject") != nullptr && listener.listener == "second")
            throw std::runtime_error("rejected by " + name_);
        if (const auto* t = envelope.header("tenant"))
            ctx.values().emplace<tenant>(*t);
    }

private:
    std::string name_;
    std::vector<std::string>& trace_;
};

} // namespace

TEST_CASE_FIXTURE(fixture, "events: pipelines run in order before each listener, hand values through the context, "
                           "and may reject the message for a listener")
{
    auto q = queue();
    auto first = with_name(R"({"greeting":"a"})", "event_name", "hello_event");
    first.attributes["tenant"] = {"String", "acme"};
    q->send(first);
    auto rejected = with_name(R"({"greeting":"b"})", "event_name", "hello_event");
    rejected.attributes["reject"] = {"String", "yes"};
    q->send(rejected);
    std::vector<std::string> trace;
    courier::event_router router;
    router.add_pipeline(std::make_shared<recording_pipeline>("p1", trace));
    router.add_pipeline(std::make_shared<recording_pipeline>("p2", trace));
    router.listen<hello_event>("first", [&](const hello_event& e, courier::context& ctx) {
        const auto* t = ctx.find_value<tenant>();
        trace.push_back("first " + e.greeting + " " + (t ? t->name : "-"));
    });
    router.listen<hello_event>("second", [&](const hello_event& e) { trace.push_back("second " + e.greeting); });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "hellos", q, router,
        courier::route_options{.max_in_flight = 1, .on_error = [&](const courier::context&, std::exception_ptr e) {
                                   errors.push_back(text_of(e));
                                   return courier::error_action::ack();
                               }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    CHECK(trace == std::vector<std::string>{"handle p1 first", "handle p2 first", "first a acme", "handle p1 second",
                                            "handle p2 second", "second a", "handle p1 first", "handle p2 first",
                                            "first b -", "handle p1 second"});
    CHECK(errors == std::vector<std::string>{"listener 'second' of event 'hello_event' failed: rejected by p1"});
}

TEST_CASE_FIXTURE(fixture, "events: on a batch route a batch listener gets its event's messages at once, after each "
                           "plain listener ran for them; a marked event fails alone and its retry reruns only the "
                           "listeners that failed")
{
    auto q = queue({.visibility_timeout = 30s});
    for (int i = 1; i <= 6; ++i)
        q->send(
            with_name(fmt::format(R"({{"id":"L{}","email":"{}@example.com"}})", i, i), "event_name", "lead.created"));
    q->send(with_name(R"({"id":"D1"})", "event_name", "lead.deleted"));
    q->send(with_name(R"({"id":7})", "event_name", "lead.created"));    // does not decode
    q->send(with_name(R"({"id":"X"})", "event_name", "lead.archived")); // unknown
    std::vector<std::string> order;
    std::vector<std::vector<std::string>> warehouse_batches;
    courier::event_router router({.unknown = courier::unknown_event_policy::skip});
    router.listen_all("log",
                      [&](const courier::event_descriptor& e, courier::context&) { order.push_back("log " + e.name); });
    router.listen<lead_created>("crm", [&](const lead_created& lead) -> asio::awaitable<void> {
        order.push_back("crm " + lead.id);
        co_return;
    });
    router.listen_batch<lead_created>("warehouse",
                                      [&](std::span<courier::batch_item<lead_created>> leads) -> asio::awaitable<void> {
                                          std::vector<std::string> ids;
                                          for (auto& lead : leads)
                                          {
                                              ids.push_back(lead.value().id);
                                              if (lead.value().id == "L3" && lead.raw().receive_count == 1)
                                                  lead.fail("L3 violates a constraint");
                                          }
                                          order.push_back("warehouse");
                                          warehouse_batches.push_back(ids);
                                          co_await work(*clock, 1s);
                                      });
    router.listen<lead_deleted>("crm", [&](const lead_deleted& lead) { order.push_back("crm " + lead.id); });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back(
        "leads", q, courier::batch(router, {.max_messages = 10}),
        courier::route_options{.max_in_flight = 10, .on_error = [&](const courier::context& ctx, std::exception_ptr e) {
                                   errors.push_back(std::string(ctx.message_id()) + ": " + text_of(e));
                                   if (courier::is_translation_error(e))
                                       return courier::error_action::ack(); // a dead letter
                                   return courier::error_action::retry_after(5s);
                               }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    REQUIRE(warehouse_batches.size() == 2);
    CHECK(warehouse_batches[0] == std::vector<std::string>{"L1", "L2", "L3", "L4", "L5", "L6"});
    CHECK(warehouse_batches[1] == std::vector<std::string>{"L3"}); // crm and log do not run again for it
    const std::vector<std::string> first_batch(order.begin(), order.begin() + 16);
    CHECK(first_batch == std::vector<std::string>{"log lead.created", "log lead.created", "log lead.created",
                                                  "log lead.created", "log lead.created", "log lead.created", "crm L1",
                                                  "crm L2", "crm L3", "crm L4", "crm L5", "crm L6", "warehouse",
                                                  "log lead.deleted", "crm D1", "warehouse"});
    CHECK(order.size() == 16);
    REQUIRE(errors.size() == 2);
    std::sort(errors.begin(), errors.end());
    CHECK(errors[0] == "memory-3: listener 'warehouse' of event 'lead.created' failed: L3 violates a constraint");
    CHECK(errors[1].starts_with("memory-8: "));
    CHECK(errors[1].find("$.id") != std::string::npos);
    CHECK(logs.contains("no listener knows event 'lead.archived': skipped"));
    CHECK(router.stats().listeners_not_rerun == 2); // log and crm for L3
}

TEST_CASE_FIXTURE(fixture, "events: on a route of single messages a batch listener gets batches of one; a throw "
                           "fails its events, a plain batch listener runs on the blocking pool")
{
    auto q = queue();
    q->send(with_name(R"({"greeting":"a"})", "event_name", "hello_event"));
    q->send(with_name(R"({"greeting":"b"})", "event_name", "hello_event"));
    std::mutex mutex;
    std::vector<std::size_t> sizes;
    courier::event_router router;
    router.listen_batch<hello_event>("rows", [&](std::span<courier::batch_item<hello_event>> events) {
        const std::lock_guard lock(mutex);
        sizes.push_back(events.size());
        if (events.front().value().greeting == "b")
            throw std::runtime_error("database down");
    });
    std::vector<std::string> errors;
    std::vector<courier::route> routes;
    routes.emplace_back("hellos", q, router,
                        courier::route_options{.on_error = [&](const courier::context&, std::exception_ptr e) {
                            errors.push_back(text_of(e));
                            return courier::error_action::ack();
                        }});
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return q->empty(); });
    const std::lock_guard lock(mutex);
    CHECK(sizes == std::vector<std::size_t>{1, 1});
    CHECK(errors == std::vector<std::string>{"listener 'rows' of event 'hello_event' failed: database down"});
}
