// Tests of the credential sources that speak HTTP (container endpoint, IMDSv2, STS web
// identity) and of the refresh policy, against small servers each test starts in-process on
// 127.0.0.1 port 0, as test_http_client.cpp does. The chain is pointed at them through the
// variables and options the SDKs define, so these tests go through the public API. Every test
// runs under run_test, which fails it if it takes more than a few seconds.
#include "aws/credential_parsing.hpp"
#include "courier/aws/credentials_provider.hpp"
#include "courier/error.hpp"

#include "credentials_support.hpp"
#include "loopback_http_server.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace asio = boost::asio;
namespace aws = courier::aws;
using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using courier::errc;
using courier_test::contains;
using courier_test::env_scope;
using courier_test::eventually;
using courier_test::http_server;
using courier_test::log_capture;
using courier_test::reply;
using courier_test::run_test;
using courier_test::seen_request;
using courier_test::sleep;
using std::chrono::system_clock;

namespace {

// An expiration with milliseconds, so tests can use short lifetimes.
std::string iso_ms(system_clock::time_point t)
{
    std::string text = aws::format_iso8601(t);
    text.pop_back();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    return fmt::format("{}.{:03}Z", text, ms.count() % 1000);
}

std::string creds_json(const std::string& key, const std::string& secret,
                       const std::string& token, system_clock::time_point expiration)
{
    return fmt::format(R"({{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{}",)"
                       R"("SecretAccessKey":"{}","Token":"{}","Expiration":"{}"}})",
                       key, secret, token, iso_ms(expiration));
}

// Options for chains under test: logs captured (at trace level) and short timeouts.
aws::credential_chain_options options_with(log_capture& log)
{
    aws::credential_chain_options options;
    options.log = log.make();
    options.http_timeout = 2s;
    return options;
}

// Awaits `p->get()` and returns the courier::error it threw (failing if it did not).
asio::awaitable<courier::error> get_error(std::shared_ptr<aws::credentials_provider> p)
{
    try {
        co_await p->get();
    } catch (const courier::error& e) {
        co_return e;
    }
    FAIL("get() did not throw courier::error");
    throw std::logic_error("unreachable");
}

// A container endpoint that counts its answers: "AKID-1", "AKID-2", ..., each valid for
// `lifetime`; from answer `fail_from` on (0-based) it answers 500.
http_server::handler numbered_credentials(std::chrono::milliseconds lifetime,
                                          std::size_t fail_from = SIZE_MAX)
{
    return [=](const seen_request&, std::size_t i) {
        if (i >= fail_from)
            return reply{500, R"({"code":"Broken","message":"injected"})"};
        const std::string n = std::to_string(i + 1);
        return reply{200, creds_json("AKID-" + n, "SECRET-" + n, "TOKEN",
                                     system_clock::now() + lifetime)};
    };
}

} // namespace

TEST_CASE("container: full URI on loopback with an authorization token (file wins)")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, [](const seen_request& r, std::size_t) {
            if (r.header("authorization") != "file-token" || r.target != "/creds?id=1")
                return reply{401, "{}"};
            return reply{200, creds_json("ASIACONT", "contsecret", "conttoken",
                                         system_clock::now() + 1h)};
        });
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/creds?id=1");
        env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token");
        env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", env.write("token", "file-token\n"));
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));
        const auto creds = co_await chain->get();
        CHECK(creds.access_key_id == "ASIACONT");
        CHECK(creds.secret_access_key == "contsecret");
        CHECK(creds.session_token == "conttoken");
        REQUIRE(creds.expiration);
        CHECK(*creds.expiration > system_clock::now() + 59min);
        CHECK(chain->name() == "container endpoint");
        CHECK(server.requests().size() == 1);
        CHECK(server.requests().at(0).method == "GET");

        (void)co_await chain->get(); // cached: no second request
        CHECK(server.requests().size() == 1);

        env.unset("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); // a new chain sends the variable
        auto second = aws::default_credentials_chain(io.get_executor(), options_with(log));
        const auto refused = co_await get_error(second);
        CHECK(refused.code() == errc::no_credentials);
        CHECK(contains(refused.what(), "container credentials endpoint answered HTTP 401"));
        CHECK(server.requests().at(1).header("authorization") == "env-token");
    });
}

TEST_CASE("imds: IMDSv2 session token, role name, then the role's credentials")
{
    env_scope env;
    env.unset("AWS_EC2_METADATA_DISABLED");
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, [](const seen_request& r, std::size_t) {
            const std::string base = "/latest/meta-data/iam/security-credentials/";
            if (r.method == "PUT" && r.target == "/latest/api/token")
                return r.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600"
                           ? reply{200, "imds-session-token"}
                           : reply{400, ""};
            if (r.method != "GET" || r.header("x-aws-ec2-metadata-token") != "imds-session-token")
                return reply{401, ""};
            if (r.target == base)
                return reply{200, "demo-role\nother-role\n"};
            if (r.target == base + "demo-role")
                return reply{200, creds_json("ASIAIMDS", "imdssecret", "imdstoken",
                                             system_clock::now() + 6h)};
            return reply{404, ""};
        });
        auto options = options_with(log);
        options.imds_endpoint = server.url();
        auto chain = aws::default_credentials_chain(io.get_executor(), options);
        const auto creds = co_await chain->get();
        CHECK(creds.access_key_id == "ASIAIMDS");
        CHECK(creds.session_token == "imdstoken");
        CHECK(chain->name() == "EC2 instance metadata");
        REQUIRE(server.requests().size() == 3);
        CHECK(server.requests()[0].method == "PUT");
        CHECK(server.requests()[1].target == "/latest/meta-data/iam/security-credentials/");
        CHECK(server.requests()[2].target ==
              "/latest/meta-data/iam/security-credentials/demo-role");
    });
}

TEST_CASE("imds: a metadata service that refuses is reported with the other sources")
{
    env_scope env;
    env.unset("AWS_EC2_METADATA_DISABLED");
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, [](const seen_request&, std::size_t) { return reply{403, ""}; });
        env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url());
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));
        const auto e = co_await get_error(chain);
        CHECK(e.code() == errc::no_credentials);
        CHECK(contains(e.what(), "environment: AWS_ACCESS_KEY_ID"));
        CHECK(contains(e.what(), "session token request answered HTTP 403"));
        CHECK(chain->name() == "default chain"); // not remembered: it never answered
    });
}

TEST_CASE("web identity: AssumeRoleWithWebIdentity form body and XML answer")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, [](const seen_request& r, std::size_t i) {
            if (i > 0)
                return reply{400, "<ErrorResponse><Error><Type>Sender</Type>"
                                  "<Code>InvalidIdentityToken</Code><Message>Token is expired"
                                  "</Message></Error><RequestId>r</RequestId></ErrorResponse>"};
            if (r.method != "POST" || r.target != "/" || r.header("authorization") != "")
                return reply{400, ""};
            return reply{200, "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws."
                              "com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>"
                              "<AssumedRoleUser><Arn>arn:x</Arn></AssumedRoleUser><Credentials>"
                              "<SessionToken>ststoken</SessionToken><SecretAccessKey>stssecret"
                              "</SecretAccessKey><Expiration>" +
                                  aws::format_iso8601(system_clock::now() + 1h) +
                                  "</Expiration><AccessKeyId>ASIASTS</AccessKeyId></Credentials>"
                                  "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentity"
                                  "Response>"};
        });
        env.set("AWS_WEB_IDENTITY_TOKEN_FILE", env.write("token", "eyJ.web+token/=\n"));
        env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/demo");
        env.set("AWS_ROLE_SESSION_NAME", "sess-1");
        auto options = options_with(log);
        options.sts_endpoint = server.url();
        auto chain = aws::default_credentials_chain(io.get_executor(), options);
        const auto creds = co_await chain->get();
        CHECK(creds.access_key_id == "ASIASTS");
        CHECK(creds.secret_access_key == "stssecret");
        CHECK(creds.session_token == "ststoken");
        REQUIRE(server.requests().size() == 1);
        const auto& sent = server.requests()[0];
        CHECK(sent.header("content-type") == "application/x-www-form-urlencoded; charset=utf-8");
        CHECK(sent.body == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                           "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
                           "&RoleSessionName=sess-1&WebIdentityToken=eyJ.web%2Btoken%2F%3D");

        auto second = aws::default_credentials_chain(io.get_executor(), options);
        const auto e = co_await get_error(second);
        CHECK(e.code() == errc::no_credentials);
        CHECK(contains(e.what(), "web identity"));
        CHECK(contains(e.what(), "status=400"));
        CHECK(contains(e.what(), "InvalidIdentityToken: Token is expired"));
    });
}

TEST_CASE("web identity: from the config profile")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, [](const seen_request&, std::size_t) {
            return reply{200, "<R><Credentials><AccessKeyId>ASIAPROF</AccessKeyId><SecretAccessKey>"
                              "s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>"
                              "2099-01-01T00:00:00Z</Expiration></Credentials></R>"};
        });
        env.set("AWS_CONFIG_FILE",
                env.write("config", "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\n"
                                    "web_identity_token_file = " + env.write("jwt", "jwt") +
                                    "\nrole_session_name = ci-run\n"));
        env.set("AWS_PROFILE", "ci");
        auto options = options_with(log);
        options.sts_endpoint = server.url();
        auto chain = aws::default_credentials_chain(io.get_executor(), options);
        CHECK((co_await chain->get()).access_key_id == "ASIAPROF");
        CHECK(chain->name() == "web identity");
        CHECK(contains(server.requests().at(0).body, "&RoleSessionName=ci-run&"));
    });
}

TEST_CASE("refresh: credentials within 5 minutes of expiry refresh in the background, once")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, numbered_credentials(2min));
        server.set_delay(100ms);
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));

        // Nothing cached: concurrent callers wait for one shared fetch.
        auto [a, b, c] = co_await (chain->get() && chain->get() && chain->get());
        CHECK(server.requests().size() == 1);
        CHECK(a.access_key_id == "AKID-1");
        CHECK(b.access_key_id == "AKID-1");
        CHECK(c.access_key_id == "AKID-1");

        // Due soon: callers get the cached set at once; one background refresh runs.
        const auto start = std::chrono::steady_clock::now();
        auto [d, e] = co_await (chain->get() && chain->get());
        CHECK(std::chrono::steady_clock::now() - start < 90ms); // did not wait for the server
        CHECK(d.access_key_id == "AKID-1");
        CHECK(e.access_key_id == "AKID-1");
        CHECK(co_await eventually([&] { return server.requests().size() == 2; }));
        CHECK(co_await eventually([&] { return log.contains("got AKID-2"); }));
        CHECK((co_await chain->get()).access_key_id == "AKID-2");

        // AKID-2 is due soon too, but a background refresh just ran: no new request yet.
        co_await sleep(200ms);
        CHECK(server.requests().size() == 2);
    });
}

TEST_CASE("refresh: a cancelled caller stops waiting; the fetch goes on for the others")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, numbered_credentials(1h));
        server.set_delay(300ms);
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));
        const auto start = std::chrono::steady_clock::now();
        const auto first = co_await (chain->get() || sleep(50ms)); // the timer wins
        CHECK(first.index() == 1);
        CHECK(std::chrono::steady_clock::now() - start < 250ms);
        CHECK((co_await chain->get()).access_key_id == "AKID-1"); // joins the same fetch
        CHECK(server.requests().size() == 1);
    });
}

TEST_CASE("refresh: a failed refresh keeps still-valid credentials and logs a warning")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, numbered_credentials(2min, 1));
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));
        CHECK((co_await chain->get()).access_key_id == "AKID-1");
        CHECK((co_await chain->get()).access_key_id == "AKID-1"); // starts the refresh
        CHECK(co_await eventually([&] { return log.contains("WARN credentials: refresh from"); }));
        CHECK(log.contains("container endpoint failed, keeping the cached ones"));
        CHECK(log.contains("HTTP 500"));
        CHECK((co_await chain->get()).access_key_id == "AKID-1");
        CHECK(server.requests().size() == 2);
    });
}

TEST_CASE("refresh: expired credentials and a failing refresh give no_credentials")
{
    env_scope env;
    log_capture log;
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        http_server server(io, numbered_credentials(600ms, 1));
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto options = options_with(log);
        auto chain = aws::default_credentials_chain(io.get_executor(), options);
        CHECK((co_await chain->get()).access_key_id == "AKID-1");
        co_await sleep(700ms);
        const auto e = co_await get_error(chain);
        CHECK(e.code() == errc::no_credentials);
        CHECK(contains(e.what(), "could not get credentials from container endpoint"));
        CHECK(contains(e.what(), "HTTP 500"));
    });
}

TEST_CASE("secrets appear in no error message and no log line")
{
    env_scope env;
    log_capture log;
    std::vector<std::string> messages;
    const std::vector<std::string> secrets = {"SECRET-SENTINEL", "TOKEN-SENTINEL", "JWT-SENTINEL",
                                              "FILE-SECRET-SENTINEL"};
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        // Container: good answer, then a refresh that fails, then bodies quoting the secrets.
        http_server server(io, [](const seen_request&, std::size_t i) {
            if (i == 0)
                return reply{200, creds_json("AKIDOK", "SECRET-SENTINEL", "TOKEN-SENTINEL",
                                             system_clock::now() + 2min)};
            return reply{i == 1 ? 500u : 200u,
                         R"({"AccessKeyId":"A","SecretAccessKey":"SECRET-SENTINEL","Token":)"};
        });
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto chain = aws::default_credentials_chain(io.get_executor(), options_with(log));
        co_await chain->get();
        co_await chain->get(); // due soon: the background refresh gets the 500
        CHECK(co_await eventually([&] { return log.contains("WARN"); }));
        auto broken = aws::default_credentials_chain(io.get_executor(), options_with(log));
        messages.push_back((co_await get_error(broken)).what()); // truncated JSON

        // STS echoing the web identity token in its message.
        env.unset("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        http_server sts(io, [](const seen_request&, std::size_t) {
            return reply{400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>"
                              "bad token JWT-SENTINEL</Message></Error></ErrorResponse>"};
        });
        env.set("AWS_WEB_IDENTITY_TOKEN_FILE", env.write("jwt", "JWT-SENTINEL"));
        env.set("AWS_ROLE_ARN", "arn:aws:iam::1:role/r");
        auto options = options_with(log);
        options.sts_endpoint = sts.url();
        auto sts_chain = aws::default_credentials_chain(io.get_executor(), options);
        messages.push_back((co_await get_error(sts_chain)).what());
    });
    // A shared file with a mistyped secret line.
    env.unset("AWS_WEB_IDENTITY_TOKEN_FILE");
    env.set("AWS_CONFIG_FILE", env.write("config", "[default]\naws_secret_access_key "
                                                   "FILE-SECRET-SENTINEL\n"));
    try {
        (void)aws::resolve_region("");
    } catch (const courier::error& e) {
        messages.push_back(e.what());
    }

    REQUIRE(messages.size() == 3);
    CHECK(contains(messages[0], "not a JSON object"));
    CHECK(contains(messages[1], "withheld"));
    CHECK(contains(messages[2], "config:2: expected"));
    const std::string logged = log.all();
    for (const auto& secret : secrets) {
        CHECK_MESSAGE(!contains(logged, secret), secret);
        for (const auto& m : messages)
            CHECK_MESSAGE(!contains(m, secret), secret << " in: " << m);
    }
}
