// Tests of the credential sources that speak HTTP (container endpoint, IMDSv2, STS web
// identity), against small servers each test starts in-process on 127.0.0.1 port 0, as
// test_http_client.cpp does. The chain is pointed at them through the variables and options
// the SDKs define, so these tests go through the public API. The refresh policy itself is
// tested without sockets, on simulated time, in test_refreshing_provider.cpp. Every test runs
// under run_test, whose time limit only catches a hang.
#include "aws/credential_parsing.hpp"
#include "container_credentials.hpp"
#include "courier/aws/credentials_provider.hpp"
#include "courier/error.hpp"
#include "credentials_support.hpp"
#include "loopback_http_server.hpp"

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace asio = boost::asio;
namespace aws = courier::aws;
using namespace std::chrono_literals;
using courier::errc;
using courier_test::contains;
using courier_test::creds_json;
using courier_test::env_scope;
using courier_test::eventually;
using courier_test::http_server;
using courier_test::log_capture;
using courier_test::reply;
using courier_test::run_test;
using courier_test::seen_request;
using std::chrono::system_clock;

namespace {

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
    try
    {
        co_await p->get();
    }
    catch (const courier::error& e)
    {
        co_return e;
    }
    FAIL("get() did not throw courier::error");
    throw std::logic_error("unreachable");
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
            return reply{200, creds_json("ASIACONT", "contsecret", "conttoken", system_clock::now() + 1h)};
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
                return r.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600" ? reply{200, "imds-session-token"}
                                                                                   : reply{400, ""};
            if (r.method != "GET" || r.header("x-aws-ec2-metadata-token") != "imds-session-token")
                return reply{401, ""};
            if (r.target == base)
                return reply{200, "demo-role\nother-role\n"};
            if (r.target == base + "demo-role")
                return reply{200, creds_json("ASIAIMDS", "imdssecret", "imdstoken", system_clock::now() + 6h)};
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
        CHECK(server.requests()[2].target == "/latest/meta-data/iam/security-credentials/demo-role");
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
        env.set("AWS_CONFIG_FILE", env.write("config", "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\n"
                                                       "web_identity_token_file = " +
                                                           env.write("jwt", "jwt") + "\nrole_session_name = ci-run\n"));
        env.set("AWS_PROFILE", "ci");
        auto options = options_with(log);
        options.sts_endpoint = server.url();
        auto chain = aws::default_credentials_chain(io.get_executor(), options);
        CHECK((co_await chain->get()).access_key_id == "ASIAPROF");
        CHECK(chain->name() == "web identity");
        CHECK(contains(server.requests().at(0).body, "&RoleSessionName=ci-run&"));
    });
}

TEST_CASE("secrets appear in no error message and no log line")
{
    env_scope env;
    log_capture log;
    std::vector<std::string> messages;
    const std::vector<std::string> secrets = {"SECRET-SENTINEL", "TOKEN-SENTINEL", "JWT-SENTINEL",
                                              "FILE-SECRET-SENTINEL"};
    // Simulated time, only to let the minimum interval between fetches pass at once.
    auto clock = std::make_shared<courier::testing::simulated_clock>();
    run_test([&](asio::io_context& io) -> asio::awaitable<void> {
        // Container: good answer, then a refresh that fails, then bodies quoting the secrets.
        http_server server(io, [&](const seen_request&, std::size_t i) {
            if (i == 0)
                return reply{200,
                             creds_json("AKIDOK", "SECRET-SENTINEL", "TOKEN-SENTINEL", clock->system_now() + 2min)};
            return reply{i == 1 ? 500u : 200u, R"({"AccessKeyId":"A","SecretAccessKey":"SECRET-SENTINEL","Token":)"};
        });
        env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/c");
        auto simulated = options_with(log);
        simulated.clock = clock;
        auto chain = aws::default_credentials_chain(io.get_executor(), simulated);
        co_await chain->get();
        clock->advance(10s);
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
    try
    {
        (void)aws::resolve_region("");
    }
    catch (const courier::error& e)
    {
        messages.push_back(e.what());
    }

    REQUIRE(messages.size() == 3);
    CHECK(contains(messages[0], "not a JSON object"));
    CHECK(contains(messages[1], "withheld"));
    CHECK(contains(messages[2], "config:2: expected"));
    const std::string logged = log.all();
    for (const auto& secret : secrets)
    {
        CHECK_MESSAGE(!contains(logged, secret), secret);
        for (const auto& m : messages)
            CHECK_MESSAGE(!contains(m, secret), secret << " in: " << m);
    }
}
