// Poison messages against a real SQS-compatible server (fauxqs): bodies that are not JSON,
// not UTF-8, do not match the typed schema, or are as big as SQS allows, and attributes of
// types nobody declared. Each reaches the route's error handler with an error that says
// where and what (asserted below), good messages sent around them keep flowing, the
// process does not crash, and with a redrive policy the poison ends in the dead-letter
// queue with its body and attributes intact.
#include "sqs_fixture.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <set>

using namespace courier_test;
using namespace std::chrono_literals;

namespace {

struct order_line
{
    std::string sku;
    int qty = 0;
};
BOOST_DESCRIBE_STRUCT(order_line, (), (sku, qty))

struct order
{
    std::string id;
    int quantity = 0;
    std::vector<order_line> items;
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, quantity, items, note))

// SQS's largest message: 256 KiB, body and attributes together.
constexpr std::size_t sqs_max_message_bytes = 256 * 1024;

// A poison body and the error text its translation must produce.
struct poison
{
    std::string name;
    std::string body;
    std::string expected;
};

std::vector<poison> poisons()
{
    // Attributes ("case") take a few bytes of the 256 KiB; the pad fills the rest. The
    // mistake sits after the pad, so the decoder has to walk all of it to find it.
    const std::string huge_prefix = R"({"id":"o-huge","quantity":1,"note":")";
    const std::string huge_suffix = R"(","items":[{"sku":"a","qty":1},{"sku":"b","qty":true}]})";
    const std::size_t pad = sqs_max_message_bytes - 64 - huge_prefix.size() - huge_suffix.size();
    return {
        {"malformed-json", R"({"id":"o-1","quantity":3,"items":[{"sku":"a","qty":1})",
         // simdjson's DOM parser names the kind of error, not its offset.
         "body is not valid JSON: The JSON document has an improper structure"},
        // Valid UTF-8 text, but a JSON escape of a lone surrogate, which no UTF-8 string
        // can hold (raw invalid UTF-8 cannot be queued: see the next test).
        {"invalid-utf8", "{\"id\":\"o-\\ud800\",\"quantity\":1,\"items\":[]}",
         "body is not valid JSON: Problem while parsing a string"},
        {"wrong-type", R"({"id":"o-2","quantity":"three","items":[]})",
         "$.quantity: expected an integer, got a string"},
        {"missing-field", R"({"quantity":3,"items":[]})", "$.id: required member is missing"},
        {"nested-wrong", R"({"id":"o-3","quantity":3,"items":[{"sku":"a","qty":1},{"sku":"b","qty":"2"}]})",
         "$.items[1].qty: expected an integer, got a string"},
        {"nested-missing", R"({"id":"o-4","quantity":3,"items":[{"sku":"a","qty":1},{"qty":2}]})",
         "$.items[1].sku: required member is missing"},
        {"not-an-object", R"(["o-5",3])", "$: expected an object, got an array"},
        // Valid JSON at the SQS size limit, wrong only in a member after 256 KiB of text.
        {"huge", huge_prefix + std::string(pad, 'x') + huge_suffix,
         "$.items[1].qty: expected an integer, got a boolean"},
    };
}

courier::outgoing_message tagged(std::string body, std::string name)
{
    courier::outgoing_message m{.body = std::move(body)};
    m.attributes["case"] = {.data_type = "String", .value = std::move(name)};
    return m;
}

} // namespace

TEST_CASE_FIXTURE(sqs_fixture, "poison: each bad body reaches the error handler with its JSON path, "
                               "good ones keep flowing, and the poison is dead-lettered intact")
{
    const auto dlq = create_queue("poison-dead");
    const auto dlq_arn = attributes(dlq).at("QueueArn");
    const auto url = create_queue(
        "poison", {{"RedrivePolicy", fmt::format(R"({{"deadLetterTargetArn":"{}","maxReceiveCount":"2"}})", dlq_arn)}});
    const auto cases = poisons();
    // Good and poison messages interleaved, so the good ones arrive in the same receives.
    std::vector<courier::outgoing_message> batch;
    for (std::size_t i = 0; i < cases.size(); ++i)
    {
        batch.push_back(
            tagged(fmt::format(R"({{"id":"good-{}","quantity":{},"items":[{{"sku":"s","qty":1}}]}})", i, i), "good"));
        batch.push_back(tagged(cases[i].body, cases[i].name));
    }
    // The huge one alone: a batch is capped at 256 KiB too.
    for (auto& m : batch)
        send(url, {m});

    std::mutex mutex;
    std::set<std::string> handled;
    std::map<std::string, std::vector<std::string>> errors; // case -> each error's text
    std::map<std::string, bool> translation;                // case -> is_translation_error
    std::vector<courier::route> routes;
    routes.emplace_back(
        "orders", courier::make_sqs_provider(client, queue_options(url)), courier::json<order>{},
        [&](order o) -> asio::awaitable<void> {
            std::lock_guard lock(mutex);
            handled.insert(o.id);
            co_return;
        },
        courier::route_options{.max_in_flight = 20, .on_error = [&](const courier::context& ctx, std::exception_ptr e) {
                                   std::string text;
                                   try
                                   {
                                       std::rethrow_exception(e);
                                   }
                                   catch (const std::exception& x)
                                   {
                                       text = x.what();
                                   }
                                   const auto it = ctx.raw().attributes.find("case");
                                   std::lock_guard lock(mutex);
                                   const auto name =
                                       it == ctx.raw().attributes.end() ? std::string("?") : it->second.value;
                                   errors[name].push_back(text);
                                   translation[name] = courier::is_translation_error(e);
                                   // Back to the queue at once: SQS counts the receives and redrives at the limit.
                                   return courier::error_action::retry_after(0ms);
                               }});
    std::atomic<bool> all_dead{false};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (!all_dead)
            {
                auto a = co_await client->get_queue_attributes(dlq);
                all_dead = a["ApproximateNumberOfMessages"] == std::to_string(cases.size());
                co_await sleep_real(100ms);
            }
        },
        asio::detached);
    // What went wrong if the run times out: shown only on failure.
    const auto progress = [&] {
        std::lock_guard lock(mutex);
        std::string out = fmt::format("handled {}, dead-lettered {}, errors:", handled.size(), all_dead.load());
        for (const auto& [name, texts] : errors)
            out += fmt::format(" {} x{} ({})", name, texts.size(), texts.back().substr(0, 200));
        return out;
    };
    INFO(progress());
    run_routes(std::move(routes), [&] {
        std::lock_guard lock(mutex);
        return all_dead && handled.size() == cases.size();
    });

    for (std::size_t i = 0; i < cases.size(); ++i)
        CHECK_MESSAGE(handled.count("good-" + std::to_string(i)) == 1, "good-" << i);
    for (const auto& c : cases)
    {
        CAPTURE(c.name);
        REQUIRE(errors.count(c.name) == 1);
        // maxReceiveCount 2: two deliveries, two calls of the error handler, then the DLQ.
        CHECK(errors[c.name].size() == 2);
        CHECK(translation[c.name]);
        for (const auto& text : errors[c.name])
            CHECK_MESSAGE(contains(text, c.expected), text);
    }
    CHECK(errors.count("?") == 0);
    CHECK(remaining(url) == 0);
    CHECK(remaining(dlq) == static_cast<int>(cases.size()));

    // The dead-letter queue holds every poison message byte for byte, with its attribute.
    auto dead = courier::make_sqs_provider(client, queue_options(dlq));
    std::map<std::string, std::string> dead_bodies;
    run([&]() -> asio::awaitable<void> {
        for (int round = 0; round < 10 && dead_bodies.size() < cases.size(); ++round)
            for (auto& m : co_await dead->receive(10))
            {
                const auto it = m.attributes.find("case");
                dead_bodies[it == m.attributes.end() ? "?" : it->second.value] = m.body;
                co_await dead->ack(m);
            }
        co_await dead->close();
    });
    REQUIRE(dead_bodies.size() == cases.size());
    for (const auto& c : cases)
    {
        CAPTURE(c.name);
        REQUIRE(dead_bodies.count(c.name) == 1);
        CHECK(dead_bodies[c.name].size() == c.body.size());
        CHECK(dead_bodies[c.name] == c.body);
    }
}

TEST_CASE_FIXTURE(sqs_fixture, "poison: a body of invalid UTF-8 is refused at the sender, not queued")
{
    // SQS accepts only Unicode text in bodies, and JSON cannot carry raw invalid UTF-8: the
    // client says so instead of sending bytes the server would reject or mangle.
    const auto url = create_queue("utf8");
    const std::string body = "{\"id\":\"o-\xff\xfe\",\"quantity\":1,\"items\":[]}";
    std::string text;
    std::error_code code;
    try
    {
        send(url, {courier::outgoing_message{.body = body}});
    }
    catch (const courier::error& e)
    {
        text = e.what();
        code = e.code();
    }
    CHECK(code == std::errc::invalid_argument);
    // Where, never the bytes themselves: `{"id":"o-` is 9 bytes.
    CHECK_MESSAGE(contains(text, " is not valid UTF-8 (byte 0xff at offset 9)"), text);
    CHECK(remaining(url) == 0);
}

TEST_CASE_FIXTURE(sqs_fixture,
                  "poison: attributes of undeclared types reach the handler intact and do not disturb decoding")
{
    const auto url = create_queue("attributes");
    courier::outgoing_message m{.body = R"({"id":"o-attr","quantity":2,"items":[]})"};
    m.attributes["tenant"] = {.data_type = "String.tenant-id", .value = "acme"};
    m.attributes["weight"] = {.data_type = "Number.kg", .value = "12.5"};
    m.attributes["blob"] = {.data_type = "Binary.custom", .value = std::string("\x00\x01\xff\xfe", 4)};
    m.attributes["emoji"] = {.data_type = "String", .value = "caf\xc3\xa9 \xf0\x9f\x93\xa6"};
    send(url, {m});
    std::optional<courier::attribute_map> seen;
    std::optional<order> decoded;
    std::vector<courier::route> routes;
    routes.emplace_back("orders", courier::make_sqs_provider(client, queue_options(url)), courier::json<order>{},
                        [&](order o, courier::context& ctx) -> asio::awaitable<void> {
                            decoded = o;
                            seen = ctx.raw().attributes;
                            co_return;
                        });
    run_routes(std::move(routes), [&] { return seen.has_value(); });
    REQUIRE(seen);
    CHECK(*seen == m.attributes);
    REQUIRE(decoded);
    CHECK(decoded->id == "o-attr");
    CHECK(decoded->quantity == 2);
    CHECK(last_routes_stats.at(0).acked == 1);
    CHECK(remaining(url) == 0);
}
