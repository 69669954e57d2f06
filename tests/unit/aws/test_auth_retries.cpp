// The SQS and SNS clients against a scripted AWS server on 127.0.0.1 that refuses a request's
// authentication the way AWS does when credentials are revoked or expired early
// (ExpiredToken, InvalidClientTokenId) or when the local clock is off (RequestTimeTooSkewed,
// "Signature expired"). Each such answer must lead to exactly one more signed attempt when
// signing again can help (fresh credentials; the server's time from its Date header), never to
// more, and never to more than one credential fetch per minimum refresh interval.
//
// The credentials come from a source scripted in memory (credentials_support.hpp) and every
// client runs on a simulated clock that only the test moves: the minimum refresh interval and
// a clock an hour off are set, not waited for. The sockets are real; run_test only guards
// against a hang.
#include "credentials_support.hpp"
#include "loopback_http_server.hpp"

#include <courier/sns.hpp>
#include <courier/sqs.hpp>

#include <fmt/chrono.h>

#include <cstdio>

namespace asio = boost::asio;
namespace aws = courier::aws;
using namespace std::chrono_literals;
using courier_test::contains;
using courier_test::log_capture;
using courier_test::reply;
using courier_test::run_test;
using courier_test::scripted_source;
using courier_test::seen_request;
using std::chrono::system_clock;

namespace {

constexpr std::string_view queue_url = "http://127.0.0.1/000000000000/auth";
constexpr std::string_view topic_arn = "arn:aws:sns:us-east-1:000000000000:auth";

enum class service
{
    sqs,
    sns
};

const char* name_of(service s)
{
    return s == service::sqs ? "SQS" : "SNS";
}

// What the test server answers when it accepts a request.
reply accepted(service s)
{
    if (s == service::sqs)
        return {200, R"({"MessageId":"m-1"})"};
    return {200, "<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>"};
}

// An error answer in the service's own format: SQS's JSON 1.0 (with the query-compatible
// header when `query_header` is set), SNS's XML.
reply refusal(service s, unsigned status, std::string_view code, std::string_view message,
              std::string_view query_header = {})
{
    if (s == service::sqs)
    {
        reply r{status, code.empty() ? fmt::format(R"({{"message":"{}"}})", message)
                                     : fmt::format(R"({{"__type":"com.amazon.coral.service#{}","message":"{}"}})", code,
                                                   message)};
        if (!query_header.empty())
            r.headers.emplace_back("x-amzn-query-error", std::string(query_header));
        return r;
    }
    return {status, fmt::format("<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message>"
                                "</Error><RequestId>r-1</RequestId></ErrorResponse>",
                                code, message)};
}

std::string http_date(system_clock::time_point t)
{
    return fmt::format("{:%a, %d %b %Y %H:%M:%S} GMT", std::chrono::floor<std::chrono::seconds>(t));
}

// X-Amz-Date, "20150830T123600Z".
system_clock::time_point amz_date(const std::string& text)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    REQUIRE(std::sscanf(text.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) == 6);
    return std::chrono::sys_days(std::chrono::year(y) / mo / d) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(s);
}

// A client of `s` on `io`, with `credentials`, on `clock`, logging into `logs`.
struct clients
{
    clients(asio::io_context& io, service s, const std::string& endpoint,
            std::shared_ptr<aws::credentials_provider> credentials,
            std::shared_ptr<courier::testing::simulated_clock> clock, log_capture& logs)
        : kind(s)
    {
        aws::client_options o;
        o.endpoint = endpoint;
        o.region = "us-east-1";
        o.credentials = std::move(credentials);
        o.clock = std::move(clock);
        o.log = logs.make(courier::log_level::debug);
        if (s == service::sqs)
            sqs = std::make_shared<courier::sqs_client>(io.get_executor(), courier::sqs_client_options{.aws = o});
        else
            sns = std::make_shared<courier::sns_client>(io.get_executor(), o);
    }

    // Sends one message; returns its id.
    asio::awaitable<std::string> send()
    {
        if (kind == service::sqs)
        {
            courier::outgoing_message m{.body = "hello"};
            co_return co_await sqs->send(std::string(queue_url), std::move(m));
        }
        courier::sns_message m("hello");
        co_return co_await sns->publish(std::string(topic_arn), std::move(m));
    }

    // The courier::error the next send throws; fails the test if it throws none.
    asio::awaitable<courier::error> send_error()
    {
        try
        {
            co_await send();
        }
        catch (const courier::error& e)
        {
            co_return e;
        }
        FAIL("the send did not throw courier::error");
        throw std::logic_error("unreachable");
    }

    service kind;
    std::shared_ptr<courier::sqs_client> sqs;
    std::shared_ptr<courier::sns_client> sns;
};

struct refused_credentials
{
    service kind;
    unsigned status;
    const char* code;
    const char* message;
    const char* query_header = "";
};

const std::vector<refused_credentials> credential_refusals = {
    {service::sqs, 400, "ExpiredTokenException", "The security token included in the request is expired"},
    {service::sqs, 403, "", "The security token included in the request is expired", "ExpiredToken;Sender"},
    {service::sqs, 400, "UnrecognizedClientException", "The security token included in the request is invalid."},
    {service::sns, 403, "ExpiredToken", "The security token included in the request is expired"},
    {service::sns, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
};

} // namespace

TEST_CASE("auth retries: refused temporary credentials are replaced by fresh ones and the request signed again")
{
    for (const auto& c : credential_refusals)
    {
        CAPTURE(name_of(c.kind));
        CAPTURE(c.code);
        CAPTURE(c.query_header);
        log_capture logs;
        auto clock = std::make_shared<courier::testing::simulated_clock>();
        run_test([&](asio::io_context& io) -> asio::awaitable<void> {
            // Revoked: the first set of credentials is refused, whatever its expiration says.
            courier_test::http_server server(io, [&](const seen_request& r, std::size_t) {
                return r.header("x-amz-security-token") == "TOKEN-1"
                           ? refusal(c.kind, c.status, c.code, c.message, c.query_header)
                           : accepted(c.kind);
            });
            auto source = std::make_shared<scripted_source>(
                io.get_executor(), aws::refresh_settings{.log = logs.make(), .clock = clock}, 1h);
            clients client(io, c.kind, server.url(), source, clock, logs);
            CHECK((co_await source->get()).access_key_id == "AKID-1"); // cached long before the refusal
            clock->advance(5min);

            CHECK(co_await client.send() == "m-1");
            REQUIRE(server.requests().size() == 2);
            CHECK(server.requests()[0].header("x-amz-security-token") == "TOKEN-1");
            CHECK(server.requests()[1].header("x-amz-security-token") == "TOKEN-2");
            CHECK(contains(server.requests()[1].header("authorization"), "Credential=AKID-2/"));
            CHECK(source->fetches == 2);
            CHECK(logs.contains("the server refused the credentials AKID-1"));

            // The fresh set is kept for what follows.
            CHECK(co_await client.send() == "m-1");
            CHECK(server.requests().size() == 3);
            CHECK(source->fetches == 2);
        });
    }
}

TEST_CASE("auth retries: a server that keeps refusing gets one more attempt per request, and fetches are paced")
{
    for (const service kind : {service::sqs, service::sns})
    {
        CAPTURE(name_of(kind));
        log_capture logs;
        auto clock = std::make_shared<courier::testing::simulated_clock>();
        run_test([&](asio::io_context& io) -> asio::awaitable<void> {
            courier_test::http_server server(io, [&](const seen_request&, std::size_t) {
                return refusal(kind, 403, kind == service::sqs ? "ExpiredTokenException" : "ExpiredToken",
                               "The security token included in the request is expired");
            });
            auto source = std::make_shared<scripted_source>(
                io.get_executor(), aws::refresh_settings{.log = logs.make(), .clock = clock}, 1h);
            clients client(io, kind, server.url(), source, clock, logs);
            co_await source->get();
            clock->advance(1min);

            // Fresh credentials once, refused too: the request fails with the server's answer.
            const auto first = co_await client.send_error();
            CHECK(contains(first.context().server_code, "ExpiredToken"));
            CHECK(first.context().status == 403);
            CHECK(server.requests().size() == 2);
            CHECK(source->fetches == 2);

            // Within the minimum refresh interval (10 s): no fetch, no second attempt.
            for (int i = 0; i < 3; ++i)
                (void)co_await client.send_error();
            CHECK(server.requests().size() == 5);
            CHECK(source->fetches == 2);

            clock->advance(10s);
            (void)co_await client.send_error();
            CHECK(server.requests().size() == 7);
            CHECK(source->fetches == 3);
        });
    }
}

TEST_CASE("auth retries: long-term keys refused are not sent again")
{
    log_capture logs;
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        courier_test::http_server server(io, [](const seen_request&, std::size_t) {
            return refusal(service::sqs, 400, "UnrecognizedClientException",
                           "The security token included in the request is invalid.");
        });
        auto keys = aws::static_credentials({.access_key_id = "AKIDSTATIC", .secret_access_key = "s"});
        clients client(io, service::sqs, server.url(), keys, clock, logs);
        const auto e = co_await client.send_error();
        CHECK(e.context().server_code == "UnrecognizedClientException");
        CHECK(server.requests().size() == 1);
    });
}

namespace {

struct skew_case
{
    service kind;
    std::chrono::minutes server_ahead; ///< the server's clock minus ours
    unsigned status;
    const char* code;
    const char* message;
};

const std::vector<skew_case> skew_answers = {
    {service::sqs, 60min, 400, "InvalidSignatureException",
     "Signature expired: 20240101T000000Z is now earlier than 20240101T005500Z (20240101T010000Z - 5 min.)"},
    {service::sqs, -60min, 400, "InvalidSignatureException",
     "Signature not yet current: 20240101T010000Z is still later than 20240101T000500Z (20240101T000000Z + 5 min.)"},
    {service::sqs, 20min, 403, "RequestTimeTooSkewed",
     "The difference between the request time and the current time is too large."},
    {service::sns, 60min, 403, "SignatureDoesNotMatch",
     "Signature expired: 20240101T000000Z is now earlier than 20240101T005500Z (20240101T010000Z - 5 min.)"},
    {service::sns, -3000min, 403, "RequestTimeTooSkewed",
     "The difference between the request time and the current time is too large."},
};

} // namespace

TEST_CASE("auth retries: a clock-skew answer corrects the signing time by the server's Date and signs again")
{
    for (const auto& c : skew_answers)
    {
        CAPTURE(name_of(c.kind));
        CAPTURE(c.code);
        CAPTURE(c.server_ahead.count());
        log_capture logs;
        auto clock = std::make_shared<courier::testing::simulated_clock>();
        run_test([&](asio::io_context& io) -> asio::awaitable<void> {
            // AWS's rule: a signature more than 5 minutes from the server's time is refused.
            const auto server_time = [&] { return clock->system_now() + c.server_ahead; };
            courier_test::http_server server(io, [&](const seen_request& r, std::size_t) {
                const auto off = amz_date(r.header("x-amz-date")) - server_time();
                if (off < 5min && off > -5min)
                    return accepted(c.kind);
                reply refused = refusal(c.kind, c.status, c.code, c.message);
                refused.headers.emplace_back("Date", http_date(server_time()));
                return refused;
            });
            auto keys = aws::static_credentials({.access_key_id = "AKIDSTATIC", .secret_access_key = "s"});
            clients client(io, c.kind, server.url(), keys, clock, logs);

            CHECK(co_await client.send() == "m-1");
            REQUIRE(server.requests().size() == 2);
            const auto signed_at = amz_date(server.requests()[1].header("x-amz-date"));
            CHECK(signed_at - server_time() < 2s);
            CHECK(signed_at - server_time() > -2s);
            CHECK(logs.contains("the server says the request time is off"));

            // The correction stays: the next request is accepted at once.
            clock->advance(1h);
            CHECK(co_await client.send() == "m-1");
            CHECK(server.requests().size() == 3);
        });
    }
}

TEST_CASE("auth retries: no second attempt for a signature error not about time, a skew answer without a "
          "usable Date, or a second skew answer")
{
    struct case_
    {
        const char* name;
        reply answer;
        std::size_t attempts;
    };
    const auto with_date = [](reply r, std::string date) {
        r.headers.emplace_back("Date", std::move(date));
        return r;
    };
    const std::string now_date = http_date(system_clock::now());
    const std::vector<case_> cases = {
        {"a wrong signature",
         with_date(refusal(service::sqs, 403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided."),
                   now_date),
         1},
        {"no Date header",
         refusal(service::sqs, 403, "RequestTimeTooSkewed",
                 "The difference between the request time and the "
                 "current time is too large."),
         1},
        {"a Date header in another form",
         with_date(refusal(service::sqs, 403, "RequestTimeTooSkewed", "too large"), "1700000000"), 1},
        {"a server that keeps refusing",
         with_date(refusal(service::sqs, 403, "RequestTimeTooSkewed", "too large"), now_date), 2},
    };
    for (const auto& c : cases)
    {
        CAPTURE(c.name);
        log_capture logs;
        auto clock = std::make_shared<courier::testing::simulated_clock>();
        run_test([&](asio::io_context& io) -> asio::awaitable<void> {
            courier_test::http_server server(io, [&](const seen_request&, std::size_t) { return c.answer; });
            auto keys = aws::static_credentials({.access_key_id = "AKIDSTATIC", .secret_access_key = "s"});
            clients client(io, service::sqs, server.url(), keys, clock, logs);
            const auto e = co_await client.send_error();
            CHECK(e.context().status == 403);
            CHECK(server.requests().size() == c.attempts);
        });
    }
}
