// Running in production: hooks, the metrics and health endpoint, readiness, permanent errors
// that stop the service with exit code 3, and JSON log lines.
#include "../test_support.hpp"
#include "metrics/exposition.hpp"
#include "ops/http_endpoint.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <simdjson.h>

#include <map>
#include <sstream>
#include <thread>

using namespace courier_test;

namespace {

// A blocking HTTP GET over loopback: status and body.
std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path)
{
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(response), ec);
    const auto status = std::stoi(response.substr(9, 3));
    const auto body = response.find("\r\n\r\n");
    return {status, body == std::string::npos ? std::string() : response.substr(body + 4)};
}

// The Prometheus text format, parsed strictly enough to catch a malformed line: every sample
// line is `name{labels} value`, every family has HELP and TYPE before its samples.
std::map<std::string, double> parse_prometheus(const std::string& text)
{
    std::map<std::string, double> samples;
    std::map<std::string, std::string> types;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line))
    {
        REQUIRE_FALSE(line.empty());
        if (line.rfind("# HELP ", 0) == 0)
            continue;
        if (line.rfind("# TYPE ", 0) == 0)
        {
            std::istringstream words(line.substr(7));
            std::string name, type;
            words >> name >> type;
            CHECK((type == "counter" || type == "gauge" || type == "histogram"));
            types[name] = type;
            continue;
        }
        const auto space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        const auto key = line.substr(0, space);
        const auto name = key.substr(0, key.find('{'));
        const bool known = types.count(name) || types.count(name.substr(0, name.rfind('_')));
        CHECK_MESSAGE(known, "sample without a TYPE: " << line);
        if (key.find('{') != std::string::npos)
            CHECK(key.back() == '}');
        samples[key] = std::stod(line.substr(space + 1));
    }
    return samples;
}

courier::manager_options quiet_manager()
{
    courier::manager_options o;
    o.dispatch.log = courier::logger(courier::log_level::off);
    o.metrics_address = "127.0.0.1:0";
    o.readiness_window = 60s;
    return o;
}

} // namespace

TEST_CASE("operations: hooks see every message received, handled, failed, acknowledged and released")
{
    simulated_fixture f;
    auto q = f.queue();
    for (const char* body : {"ok", "ok", "bad", "obsolete"})
        q->send(body);
    std::vector<std::string> events;
    courier::dispatcher_options o;
    o.clock = f.clock;
    o.log = f.logs.make();
    o.hooks.received = [&](std::string_view route, const courier::message& m) {
        events.push_back(std::string(route) + " received " + m.body);
    };
    o.hooks.handled = [&](std::string_view, const courier::message& m, std::chrono::nanoseconds took) {
        events.push_back("handled " + m.body);
        CHECK(took == 2s);
    };
    o.hooks.failed = [&](std::string_view, const courier::message& m, std::exception_ptr e) {
        events.push_back("failed " + m.body + ": " + courier::error_text(e));
    };
    o.hooks.acknowledged = [&](std::string_view, const courier::message& m) {
        events.push_back("acknowledged " + m.body);
    };
    o.hooks.released = [&](std::string_view, const courier::message& m) { events.push_back("released " + m.body); };
    std::vector<courier::route> routes;
    routes.emplace_back(
        "r", q,
        [&](const courier::message& m) -> asio::awaitable<void> {
            co_await work(*f.clock, 2s);
            if (m.body == "bad" && m.receive_count == 1)
                throw std::runtime_error("boom");
            if (m.body == "obsolete")
                throw courier::delete_message("old");
        },
        courier::route_options{.max_in_flight = 1, .on_error = [](const courier::context&, std::exception_ptr) {
                                   return courier::error_action::release();
                               }});
    courier::dispatcher d(f.io.get_executor(), std::move(routes), std::move(o));
    bool done = false;
    asio::co_spawn(f.io, d.run(), [&](std::exception_ptr, courier::stop_kind) { done = true; });
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            while (std::count(events.begin(), events.end(), "acknowledged obsolete") == 0)
                co_await f.clock->sleep_for(10ms);
            d.stop();
        },
        asio::detached);
    f.clock->run(f.io, 1h);
    REQUIRE(done);
    CHECK(events == std::vector<std::string>{"r received ok", "handled ok", "acknowledged ok", "r received ok",
                                             "handled ok", "acknowledged ok", "r received bad", "failed bad: boom",
                                             "released bad", "r received bad", "handled bad", "acknowledged bad",
                                             "r received obsolete", "acknowledged obsolete"});
}

TEST_CASE("operations: /metrics counts what happened, /healthz answers, /readyz is ready while receives work")
{
    auto o = quiet_manager();
    courier::manager mgr(o);
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 50ms});
    for (int i = 0; i < 25; ++i)
        q->send(i % 5 == 4 ? "fail" : "ok");
    std::atomic<int> seen{0};
    mgr.add_route("orders \"main\"", q, [&](const courier::message& m) -> asio::awaitable<void> {
        ++seen;
        if (m.body == "fail")
            throw courier::delete_message("dropped");
        co_return;
    });
    std::map<std::string, double> scraped;
    std::pair<int, std::string> health, ready;
    std::thread prober([&] {
        while (mgr.metrics_port() == 0 || seen < 25 || !q->empty())
            std::this_thread::sleep_for(5ms);
        scraped = parse_prometheus(http_get(mgr.metrics_port(), "/metrics").second);
        health = http_get(mgr.metrics_port(), "/healthz");
        // A receive has completed (the queue is empty and long polls end every 50 ms).
        for (int i = 0; i < 2000 && (ready = http_get(mgr.metrics_port(), "/readyz")).first != 200; ++i)
            std::this_thread::sleep_for(5ms);
        mgr.stop();
    });
    CHECK(mgr.run() == courier::exit_ok);
    prober.join();
    const std::string route = R"({route="orders \"main\""})";
    CHECK(scraped["courier_messages_received_total" + route] == 25);
    CHECK(scraped["courier_messages_handled_total" + route] == 20);
    CHECK(scraped["courier_messages_acknowledged_total" + route] == 25);
    CHECK(scraped["courier_messages_failed_total" + route] == 0);
    CHECK(scraped["courier_messages_in_flight" + route] == 0);
    CHECK(scraped["courier_route_running" + route] == 1);
    CHECK(scraped["courier_handler_duration_seconds_count" + route] == 20);
    CHECK(scraped[R"(courier_handler_duration_seconds_bucket{route="orders \"main\"",le="+Inf"})"] == 20);
    CHECK(scraped["courier_ack_latency_seconds_count" + route] == 25);
    CHECK(scraped["courier_message_age_seconds_count" + route] == 25);
    CHECK(health.first == 200);
    CHECK(ready.first == 200);
    CHECK(ready.second == "ready\n");
}

TEST_CASE("operations: /readyz turns 503 with the reason when receives fail, and 200 when they recover")
{
    auto o = quiet_manager();
    courier::manager mgr(o);
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 20ms});
    auto flaky = std::make_shared<recording_provider>(q);
    mgr.add_route(
        "flaky", flaky, [](const courier::message&) -> asio::awaitable<void> { co_return; },
        courier::route_options{.receive_error_backoff = 20ms});
    std::vector<std::pair<int, std::string>> answers;
    std::thread prober([&] {
        auto ready_is = [&](int status) {
            for (int i = 0; i < 4000; ++i)
            {
                auto answer = http_get(mgr.metrics_port(), "/readyz");
                if (answer.first == status)
                {
                    answers.push_back(answer);
                    return;
                }
                std::this_thread::sleep_for(5ms);
            }
            answers.push_back({0, "never"});
        };
        while (mgr.metrics_port() == 0)
            std::this_thread::sleep_for(5ms);
        ready_is(200);
        flaky->fail_receives = 1000000; // every receive fails from now on
        ready_is(503);
        flaky->fail_receives = 0;
        ready_is(200);
        mgr.stop();
    });
    CHECK(mgr.run() == courier::exit_ok);
    prober.join();
    REQUIRE(answers.size() == 3);
    CHECK(answers[0].first == 200);
    CHECK(answers[1].first == 503);
    CHECK(contains(answers[1].second, "flaky: the last receive failed: injected receive failure"));
    CHECK(answers[2].first == 200);
}

TEST_CASE("operations: an error retrying cannot heal stops the service with exit code 3 and says what is wrong")
{
    struct missing_queue final : courier::provider
    {
        std::string name() const override { return "missing"; }
        asio::awaitable<std::vector<courier::message>> receive(std::size_t) override
        {
            ++receives;
            throw courier::error(courier::errc::not_found, "the queue does not exist: create it, or fix the URL",
                                 {.queue = "https://sqs.example/123/missing"});
            co_return std::vector<courier::message>{};
        }
        asio::awaitable<void> ack(const courier::message&) override { co_return; }
        asio::awaitable<void> release(const courier::message&) override { co_return; }
        asio::awaitable<void> close() override { co_return; }
        int receives = 0;
    };
    log_capture logs;
    courier::manager_options o;
    o.dispatch.log = logs.make();
    courier::manager mgr(o);
    auto missing = std::make_shared<missing_queue>();
    auto q = std::make_shared<courier::memory_provider>(courier::memory_queue_options{.receive_wait = 50ms});
    mgr.add_route("broken", missing, [](const courier::message&) -> asio::awaitable<void> { co_return; });
    mgr.add_route("fine", q, [](const courier::message&) -> asio::awaitable<void> { co_return; });
    CHECK(mgr.run() == courier::exit_permanent_error);
    CHECK(missing->receives == 1); // not retried
    CHECK(logs.contains("ERROR [broken] stopping: the queue does not exist: create it, or fix the URL"));
    CHECK(logs.contains("INFO [fine] stopped"));
}

TEST_CASE_FIXTURE(dispatcher_fixture, "operations: told to keep retrying, a permanent error backs off like any other")
{
    auto q = queue();
    q->send("eventually");
    auto flaky = std::make_shared<recording_provider>(q);
    flaky->receive_failure = courier::errc::access_denied;
    flaky->fail_receives = 3; // a policy fixed by hand meanwhile
    auto o = options();
    o.on_permanent_error = courier::dispatcher_options::permanent_errors::keep_retrying;
    std::vector<courier::route> routes;
    routes.emplace_back("r", flaky, [](const courier::message&) -> asio::awaitable<void> { co_return; });
    courier::dispatcher d(io.get_executor(), std::move(routes), std::move(o));
    CHECK(run(d, [&] { return q->empty(); }) == courier::stop_kind::graceful);
    CHECK(flaky->receives >= 4);
    CHECK(logs.count("receive failed: injected receive failure") == 3);

    CHECK(courier::is_permanent(std::make_exception_ptr(courier::error(courier::errc::not_found, "no"))));
    CHECK(courier::is_permanent(std::make_exception_ptr(courier::error(courier::errc::invalid_credentials, "no"))));
    CHECK_FALSE(courier::is_permanent(std::make_exception_ptr(courier::error(courier::errc::throttled, "slow down"))));
    CHECK_FALSE(courier::is_permanent(std::make_exception_ptr(std::runtime_error("other"))));
}

TEST_CASE("operations: JSON log lines parse, whatever the text holds")
{
    const courier::log_field fields[] = {{"delivery", "2"}, {"settlement", "ack"}};
    const courier::log_record record{courier::log_level::warning, "orders", "m-1",
                                     "quote \" backslash \\ newline \n tab \t bell \a bad utf-8 \xff\xfe end", fields};
    const auto line =
        courier::logger::to_json(record, std::chrono::system_clock::time_point(std::chrono::seconds(1764000000)));
    CHECK(line.find('\n') == std::string::npos);
    simdjson::ondemand::parser parser;
    simdjson::padded_string json(line);
    auto doc = parser.iterate(json);
    CHECK(std::string_view(doc["time"].get_string().value()) == "2025-11-24T16:00:00.000Z");
    CHECK(std::string_view(doc["level"].get_string().value()) == "warning");
    CHECK(std::string_view(doc["route"].get_string().value()) == "orders");
    CHECK(std::string_view(doc["message_id"].get_string().value()) == "m-1");
    CHECK(std::string_view(doc["text"].get_string().value()) ==
          "quote \" backslash \\ newline \n tab \t bell \a bad utf-8 \xEF\xBF\xBD\xEF\xBF\xBD end");
    auto f = doc["fields"].get_object().value();
    CHECK(std::string_view(f["delivery"].get_string().value()) == "2");
    CHECK(std::string_view(f["settlement"].get_string().value()) == "ack");
}

TEST_CASE("operations: a metrics address that cannot be used is a configuration error naming it")
{
    for (const char* address : {"9464", "localhost:9464", "127.0.0.1:99999", "127.0.0.1:x", ":9464"})
    {
        CAPTURE(address);
        const auto e = error_from([&] { courier::detail::parse_listen_address(address); });
        CHECK(e.code() == courier::errc::bad_configuration);
        CHECK(contains(e.what(), address));
    }
    CHECK(courier::detail::parse_listen_address("[::1]:9464") == std::pair<std::string, std::uint16_t>{"::1", 9464});
}

TEST_CASE("operations: the exposition escapes label values and writes histograms cumulatively")
{
    courier::detail::metrics::histogram h(courier::detail::metrics::duration_bounds);
    h.observe(0.003);
    h.observe(0.003);
    h.observe(7);
    h.observe(1000);
    courier::detail::metrics::exposition out;
    out.family("x_seconds", "histogram", "help with \\ and\nnewline");
    out.histogram_samples("x_seconds", {{"route", "a\"b\\c\nd"}}, h);
    const auto& text = out.text();
    CHECK(contains(text, "# HELP x_seconds help with \\\\ and\\nnewline\n"));
    CHECK(contains(text, R"(x_seconds_bucket{route="a\"b\\c\nd",le="0.001"} 0)"));
    CHECK(contains(text, R"(x_seconds_bucket{route="a\"b\\c\nd",le="0.005"} 2)"));
    CHECK(contains(text, R"(x_seconds_bucket{route="a\"b\\c\nd",le="10"} 3)"));
    CHECK(contains(text, R"(x_seconds_bucket{route="a\"b\\c\nd",le="+Inf"} 4)"));
    CHECK(contains(text, R"(x_seconds_count{route="a\"b\\c\nd"} 4)"));
    CHECK(contains(text, R"(x_seconds_sum{route="a\"b\\c\nd"} 1007.006)"));
}
