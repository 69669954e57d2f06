// The event bus: where it writes names, destinations, pipelines on the sending side, the
// correlation id across a round trip through the memory queue, and the media-type producer.
#include "test_support.hpp"

#include <courier/events.hpp>

using namespace courier_test;

namespace {

using fixture = dispatcher_fixture;

struct order_placed
{
    static constexpr courier::event_options courier_event{.name = "order.placed",
                                                          .media_type = "application/vnd.order.placed"};
    std::string id;
    int quantity = 0;
};
BOOST_DESCRIBE_STRUCT(order_placed, (), (id, quantity))

struct order_shipped
{
    static constexpr courier::event_options courier_event{.name = "order.shipped"};
    std::string id;
};
BOOST_DESCRIBE_STRUCT(order_shipped, (), (id))

struct empty_event
{
};

// Another type calling itself "order.placed".
struct impostor
{
    static constexpr courier::event_options courier_event{.name = "order.placed"};
};
BOOST_DESCRIBE_STRUCT(empty_event, (), ())

// A publisher that keeps what it is given.
class recording_publisher final : public courier::publisher
{
public:
    asio::awaitable<std::string> publish(courier::outgoing_message msg) override
    {
        sent.push_back(std::move(msg));
        co_return "id-" + std::to_string(sent.size());
    }
    std::vector<courier::outgoing_message> sent;
};

template <class Fn> auto run_now(Fn fn)
{
    asio::io_context io;
    return run_real(io, std::move(fn));
}

} // namespace

TEST_CASE("event bus: the name goes where the location says, and the publisher's id comes back")
{
    auto to = std::make_shared<recording_publisher>();
    const order_placed order{"o-1", 2};

    courier::event_bus by_attribute;
    by_attribute.send_to<order_placed>(to);
    CHECK(run_now([&] { return by_attribute.send(order, {{"tenant", {"String", "acme"}}}); }) == "id-1");
    CHECK(to->sent.back().body == R"({"id":"o-1","quantity":2})");
    CHECK(to->sent.back().attributes ==
          courier::attribute_map{{"event_name", {"String", "order.placed"}}, {"tenant", {"String", "acme"}}});

    courier::event_bus in_member(courier::event_name_location::body_member("event_name", "data"));
    in_member.send_to("order.placed", to);
    run_now([&] { return in_member.send(order); });
    CHECK(to->sent.back().body == R"({"event_name":"order.placed","data":{"id":"o-1","quantity":2}})");
    CHECK(to->sent.back().attributes.empty());

    courier::event_bus in_body(courier::event_name_location::body_member("type"));
    in_body.send_to<order_placed>(to).send_to<empty_event>(to);
    run_now([&] { return in_body.send(order); });
    CHECK(to->sent.back().body == R"({"type":"order.placed","id":"o-1","quantity":2})");
    const empty_event nothing;
    run_now([&] { return in_body.send(nothing); });
    CHECK(to->sent.back().body == R"({"type":"empty_event"})");

    courier::event_bus by_media_type(courier::event_name_location::media_type_attribute());
    by_media_type.send_to<order_placed>(to);
    run_now([&] { return by_media_type.send(order); });
    CHECK(to->sent.back().attributes ==
          courier::attribute_map{{"media_type", {"String", "application/vnd.order.placed"}}});

    courier::event_bus fixed(courier::event_name_location::fixed("order.placed"));
    fixed.send_to<order_placed>(to);
    run_now([&] { return fixed.send(order); });
    CHECK(to->sent.back().attributes.empty());
    CHECK(to->sent.size() == 6);
}

TEST_CASE("event bus: an event without a destination is a clear error; the default destination takes the rest; "
          "two types with one name are refused")
{
    auto placed = std::make_shared<recording_publisher>();
    auto others = std::make_shared<recording_publisher>();
    courier::event_bus bus;
    bus.send_to<order_placed>(placed);
    const order_shipped shipped{"o-1"};
    const auto e = error_from([&] { (void)bus.send(shipped); });
    CHECK(e.code() == courier::errc::bad_configuration);
    CHECK(std::string(e.what()) == "event_bus: no destination for event 'order.shipped' (destinations: order.placed)");
    CHECK_FALSE(bus.has_destination("order.shipped"));
    bus.send_others_to(others);
    CHECK(bus.has_destination("order.shipped"));
    run_now([&] { return bus.send(shipped); });
    CHECK(others->sent.size() == 1);
    CHECK(placed->sent.empty());

    courier::event_bus conflicting;
    conflicting.send_to("order.placed", placed); // by name: any type
    conflicting.send_to<order_placed>(placed);
    CHECK(contains(error_from([&] { conflicting.send_to<impostor>(placed); }).what(), "are both event 'order.placed'"));
    CHECK_THROWS_AS(conflicting.send_to("x", nullptr), courier::error);
}

namespace {

class tagging_pipeline final : public courier::envelope_pipeline
{
public:
    explicit tagging_pipeline(std::string tag)
        : tag_(std::move(tag))
    {
    }

    void on_send(courier::outgoing_envelope& envelope, const courier::event_descriptor& event,
                 const courier::context*) override
    {
        if (tag_ == "refuse")
            throw std::runtime_error("refused " + event.name);
        const auto* seen = envelope.header("trace");
        envelope.set_header("trace", (seen ? *seen + ">" : "") + tag_ + ":" + std::string(envelope.body()));
    }

private:
    std::string tag_;
};

} // namespace

TEST_CASE("event bus: pipelines see the encoded envelope in the order added, and may refuse a send")
{
    auto to = std::make_shared<recording_publisher>();
    courier::event_bus bus;
    bus.send_to<order_shipped>(to);
    bus.add_pipeline(std::make_shared<tagging_pipeline>("a")).add_pipeline(std::make_shared<tagging_pipeline>("b"));
    const order_shipped shipped{"o-9"};
    run_now([&] { return bus.send(shipped); });
    CHECK(to->sent.back().attributes.at("trace").value == R"(a:{"id":"o-9"}>b:{"id":"o-9"})");

    bus.add_pipeline(std::make_shared<tagging_pipeline>("refuse"));
    CHECK_THROWS_WITH((void)bus.send(shipped), "refused order.shipped");
    CHECK(to->sent.size() == 1);
}

TEST_CASE_FIXTURE(fixture, "event bus and router: a round trip through the memory queue with the defaults; the "
                           "correlation id follows events sent from a listener, and a new one starts at the edge")
{
    auto orders = queue({.name = "orders"});
    auto shipping = queue({.name = "shipping"});
    auto ids = std::make_shared<courier::correlation_id_pipeline>();
    courier::event_bus bus;
    bus.send_to<order_placed>(orders).send_to<order_shipped>(shipping).add_pipeline(ids);

    courier::event_router placed_router;
    placed_router.add_pipeline(ids);
    std::vector<std::string> seen;
    placed_router.listen<order_placed>("ship", [&](order_placed o, courier::context& ctx) -> asio::awaitable<void> {
        seen.push_back("placed " + o.id + " " + std::string(courier::correlation_id_of(ctx)));
        const order_shipped next{o.id};
        co_await bus.send(next, ctx);
    });
    courier::event_router shipped_router;
    shipped_router.add_pipeline(ids);
    // Coroutines, on the route's executor as the check of `seen` below (a plain listener
    // would run on the blocking pool and race with it).
    shipped_router.listen<order_shipped>(
        "notify", [&](const order_shipped& o, courier::context& ctx) -> asio::awaitable<void> {
            seen.push_back("shipped " + o.id + " " + std::string(courier::correlation_id_of(ctx)));
            co_return;
        });

    run_simulated(io, *clock, [&]() -> asio::awaitable<void> {
        const order_placed edge{"o-1", 1};
        co_await bus.send(edge); // the edge: a new id
        const order_placed carried{"o-2", 1};
        courier::attribute_map set_by_caller{{"correlation_id", {"String", "chain-7"}}}; // stays
        co_await bus.send(carried, std::move(set_by_caller));
    });
    std::vector<courier::route> routes;
    routes.emplace_back("orders", orders, placed_router);
    routes.emplace_back("shipping", shipping, shipped_router);
    courier::dispatcher d(io.get_executor(), std::move(routes), options());
    run(d, [&] { return seen.size() == 4; });
    REQUIRE(seen.size() == 4);
    std::sort(seen.begin(), seen.end());
    const std::string first_id = seen[0].substr(std::string("placed o-1 ").size());
    CHECK(first_id.size() == 36);
    CHECK(first_id[14] == '4');
    CHECK(seen == std::vector<std::string>{"placed o-1 " + first_id, "placed o-2 chain-7", "shipped o-1 " + first_id,
                                           "shipped o-2 chain-7"});
    CHECK(courier::correlation_id_pipeline::new_id() != courier::correlation_id_pipeline::new_id());
}

TEST_CASE("media_type_producer: any publisher, by media type, with the media type attribute")
{
    auto placed = std::make_shared<recording_publisher>();
    auto others = std::make_shared<recording_publisher>();
    const courier::media_type_producer producer({{"application/vnd.order.placed", placed}});
    const order_placed order{"o-1", 3};
    CHECK(run_now([&] { return producer.produce("application/vnd.order.placed", order); }) == "id-1");
    CHECK(placed->sent.back().body == R"({"id":"o-1","quantity":3})");
    courier::attribute_map extra{{"tenant", {"String", "acme"}}, {"media_type", {"String", "forged"}}};
    run_now([&] { return producer.produce("application/vnd.order.placed", "{}", extra); });
    CHECK(placed->sent.back().attributes ==
          courier::attribute_map{{"media_type", {"String", "application/vnd.order.placed"}},
                                 {"tenant", {"String", "acme"}}});
    CHECK(contains(error_from([&] { (void)producer.produce("application/vnd.other", "{}"); }).what(),
                   "no destination for event 'application/vnd.other'"));
    CHECK_FALSE(producer.has_destination("application/vnd.other"));

    const courier::media_type_producer with_fallback({{"application/vnd.order.placed", placed}}, others);
    run_now([&] { return with_fallback.produce("application/vnd.other", "{}"); });
    CHECK(others->sent.size() == 1);
    CHECK_THROWS_AS(courier::media_type_producer({{"application/vnd.a", nullptr}}), courier::error);
}
