// Tests of credential configuration without a network: the shared-file INI parser and
// profile lookup, the sans-io parsers of credential responses (ISO 8601, JSON, STS XML),
// region and endpoint resolution, and the chain's environment and shared-file sources.
// Every test that touches the environment does it inside an env_scope, which restores it.
#include "aws/credential_parsing.hpp"
#include "aws/form_encoding.hpp"
#include "aws/shared_config.hpp"
#include "aws/xml.hpp"
#include "courier/aws/credentials_provider.hpp"
#include "courier/error.hpp"
#include "credentials_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

namespace asio = boost::asio;
namespace aws = courier::aws;
using courier::errc;
using courier_test::contains;
using courier_test::env_scope;
using std::chrono::system_clock;

namespace {

// Chain options that log nothing: these tests check results, not lines.
aws::credential_chain_options quiet()
{
    aws::credential_chain_options options;
    options.log = courier::logger(courier::log_level::off);
    return options;
}

aws::credentials chain_get(aws::credential_chain_options options = quiet())
{
    asio::io_context io;
    auto chain = aws::default_credentials_chain(io.get_executor(), std::move(options));
    auto result = asio::co_spawn(io, chain->get(), asio::use_future);
    io.run();
    return result.get();
}

// The detail of the courier::error `fn` throws, checking its code.
template <class Fn> std::string error_of(Fn fn, errc expected)
{
    try
    {
        fn();
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == expected);
        return e.what();
    }
    FAIL("no courier::error thrown");
    return {};
}

} // namespace

TEST_CASE("parse_ini: profiles, comments, odd whitespace and sub-properties")
{
    const auto doc = aws::parse_ini("# leading comment\n"
                                    "  ; indented comment\n"
                                    "[default]\n"
                                    "aws_access_key_id = AKID1\n"
                                    "aws_secret_access_key=SECRET1   ; inline comment\n"
                                    "\n"
                                    "[profile dev]   # comment after the header\r\n"
                                    "region\t=\teu-west-1\r\n"
                                    "AWS_Session_Token = tok#kept\n"
                                    "url = http://host/#frag ;comment\n"
                                    "empty =\n"
                                    "s3 =\n"
                                    "  max_concurrent_requests = 10\n"
                                    "  addressing_style = path\n"
                                    "after = 1\n"
                                    "[  spaced name  ]\n"
                                    "   indented = yes\n"
                                    "[default]\n"
                                    "region = us-east-2\n");
    REQUIRE(doc.size() == 3);
    const auto& def = doc.at("default");
    CHECK(def.at("aws_access_key_id") == "AKID1");
    CHECK(def.at("aws_secret_access_key") == "SECRET1");
    CHECK(def.at("region") == "us-east-2"); // a repeated section merges
    const auto& dev = doc.at("profile dev");
    CHECK(dev.at("region") == "eu-west-1");
    CHECK(dev.at("aws_session_token") == "tok#kept"); // keys are case-insensitive
    CHECK(dev.at("url") == "http://host/#frag");
    CHECK(dev.at("empty").empty());
    CHECK(dev.at("s3") == "\nmax_concurrent_requests = 10\naddressing_style = path");
    CHECK(dev.at("after") == "1");
    CHECK(doc.at("spaced name").at("indented") == "yes");
}

TEST_CASE("parse_ini: malformed lines name the file and line, never their text")
{
    auto problem = [](std::string text) {
        return error_of([&] { aws::parse_ini(text, "/home/u/.aws/config"); }, errc::bad_configuration);
    };
    const auto no_equals = problem("[default]\n# fine\naws_secret_access_key wJalrXUtnFEMI\n");
    CHECK(contains(no_equals, "/home/u/.aws/config:3: expected 'key = value'"));
    CHECK_FALSE(contains(no_equals, "wJalrXUtnFEMI"));
    CHECK(contains(problem("key = v\n[default]\n"), ":1: property before the first [section]"));
    CHECK(contains(problem("[default]\n\n[profile x\n"), ":3: section header without"));
    CHECK(contains(problem("[default]\n = value\n"), ":2: property without a key"));
    CHECK(contains(problem("[ ]\n"), ":1: empty section name"));
    CHECK(contains(problem("[default] junk\n"), ":1: unexpected text after the section header"));
}

TEST_CASE("find_profile: section names of the credentials and config files")
{
    const auto config = aws::parse_ini("[default]\nregion = a\n"
                                       "[profile default]\nregion = b\n"
                                       "[profile  dev ]\nregion = c\n"
                                       "[ops]\nregion = d\n"
                                       "[sso-session corp]\nregion = e\n");
    using aws::shared_file;
    CHECK(aws::find_profile(config, "default", shared_file::config)->at("region") == "b");
    CHECK(aws::find_profile(config, "dev", shared_file::config)->at("region") == "c");
    CHECK(aws::find_profile(config, "ops", shared_file::config) == nullptr);
    CHECK(aws::find_profile(config, "corp", shared_file::config) == nullptr);
    CHECK(aws::find_profile(config, "Dev", shared_file::config) == nullptr);

    const auto creds = aws::parse_ini("[default]\nk = 1\n[dev]\nk = 2\n[profile x]\nk = 3\n");
    CHECK(aws::find_profile(creds, "dev", shared_file::credentials)->at("k") == "2");
    CHECK(aws::find_profile(creds, "x", shared_file::credentials) == nullptr);
}

TEST_CASE("parse_iso8601: the forms AWS writes, and nothing else")
{
    const auto base = system_clock::from_time_t(1709210096); // 2024-02-29T12:34:56Z
    CHECK(aws::parse_iso8601("2024-02-29T12:34:56Z") == base);
    CHECK(aws::parse_iso8601("2024-02-29T12:34:56.250Z") == base + std::chrono::milliseconds(250));
    CHECK(aws::parse_iso8601("2024-02-29T14:34:56+02:00") == base);
    CHECK(aws::parse_iso8601("2024-02-29T07:04:56-0530") == base);
    CHECK(aws::format_iso8601(base + std::chrono::milliseconds(999)) == "2024-02-29T12:34:56Z");
    for (const char* bad :
         {"", "2024-02-29", "2024-02-29T12:34:56", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
          "2024-02-29T24:00:00Z", "2024-02-29T12:34:56.Z", "2024-02-29T12:34:56Zjunk", "2024-02-29 12:34:56Z"})
        CHECK_MESSAGE(!aws::parse_iso8601(bad), bad);
}

TEST_CASE("parse_iso8601: times system_clock cannot hold are refused, not overflowed")
{
    // Found by fuzz/fuzz_credentials: "9999-12-31T23:59:59Z" overflowed the nanosecond count
    // (signed overflow, UB). The edges of the range still parse.
    for (const char* far : {"9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z", "0000-01-01T00:00:00Z",
                            "1677-09-21T00:12:44Z", "1000-01-01T00:00:00.999999999+23:59"})
        CHECK_MESSAGE(!aws::parse_iso8601(far), far);
    CHECK(aws::parse_iso8601("2200-01-01T00:00:00Z"));
    CHECK(aws::format_iso8601(*aws::parse_iso8601("1700-01-01T00:00:00.5Z")) == "1700-01-01T00:00:00Z");
    const auto json = R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"9999-12-31T23:59:59Z"})";
    CHECK_THROWS_AS(aws::parse_credentials_json(json), courier::error);
}

TEST_CASE("parse_credentials_json: container and IMDS documents")
{
    const auto creds = aws::parse_credentials_json(
        R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA1","SecretAccessKey":"s/k+1",)"
        R"("Token":"t\/1","Expiration":"2030-01-01T00:00:00Z","RoleArn":null})");
    CHECK(creds.access_key_id == "ASIA1");
    CHECK(creds.secret_access_key == "s/k+1");
    CHECK(creds.session_token == "t/1");
    CHECK(creds.expiration == aws::parse_iso8601("2030-01-01T00:00:00Z"));

    auto problem = [](std::string body) {
        return error_of([&] { aws::parse_credentials_json(body); }, errc::bad_response);
    };
    CHECK(contains(problem(R"({"Code":"Failure"})"), "Code 'Failure'"));
    CHECK(contains(problem(R"({"AccessKeyId":"A"})"), "lacks AccessKeyId or SecretAccessKey"));
    CHECK(contains(problem(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})"), "Expiration"));
    const auto truncated = problem(R"({"AccessKeyId":"A","SecretAccessKey":"SEKRIT-1",)");
    CHECK(contains(truncated, "not a JSON object"));
    CHECK_FALSE(contains(truncated, "SEKRIT-1"));
}

TEST_CASE("xml_leaf_children: the small STS reader")
{
    const auto fields =
        aws::xml_leaf_children("<?xml version=\"1.0\"?><r:Response xmlns:r=\"urn:x\"><!-- <Credentials/> -->"
                               "<Result><Credentials a='>'><AccessKeyId>AK&amp;1</AccessKeyId>"
                               "<SecretAccessKey><![CDATA[s<k>]]></SecretAccessKey><Nested><X>1</X></Nested>"
                               "<r:SessionToken>t&#x41;&#66;</r:SessionToken><Empty/></Credentials></Result>"
                               "</r:Response>",
                               "Credentials");
    REQUIRE(fields);
    CHECK(fields->at("AccessKeyId") == "AK&1");
    CHECK(fields->at("SecretAccessKey") == "s<k>");
    CHECK(fields->at("SessionToken") == "tAB");
    CHECK(fields->at("Empty").empty());
    CHECK(fields->count("Nested") == 0);
    CHECK_FALSE(aws::xml_leaf_children("<a><b>1</b></a>", "Credentials"));

    auto problem = [](std::string xml) {
        return error_of([&] { aws::xml_leaf_children(xml, "C"); }, errc::bad_response);
    };
    CHECK(contains(problem("<!DOCTYPE x [<!ENTITY e \"boom\">]><C>&e;</C>"), "DOCTYPE"));
    CHECK(contains(problem("<C><A>1</B></C>"), "mismatched"));
    CHECK(contains(problem("<C><A>&bogus;</A></C>"), "unknown entity"));
    CHECK(contains(problem("<C><A>1</A>"), "ends inside"));

    const auto sts = aws::parse_sts_error("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                                          "<Message>Token expired</Message></Error></ErrorResponse>");
    CHECK(sts.code == "InvalidIdentityToken");
    CHECK(sts.message == "Token expired");
    CHECK(aws::parse_sts_error("<html>gateway timeout").code.empty());
    CHECK(aws::form_encode("arn:aws:iam::1:role/a b~_.-") == "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b~_.-");
}

TEST_CASE("resolve_region: explicit, AWS_REGION, AWS_DEFAULT_REGION, then the config profile")
{
    env_scope env;
    env.set("AWS_CONFIG_FILE", env.write("config", "[default]\nregion = eu-north-1\n"
                                                   "[profile dev]\nregion = ap-south-1\n"));
    CHECK(aws::resolve_region("us-west-2") == "us-west-2");
    CHECK(aws::resolve_region("") == "eu-north-1");
    CHECK(aws::resolve_region("", "dev") == "ap-south-1");
    env.set("AWS_PROFILE", "dev");
    CHECK(aws::resolve_region("") == "ap-south-1");
    env.set("AWS_DEFAULT_REGION", "ca-central-1");
    CHECK(aws::resolve_region("") == "ca-central-1");
    env.set("AWS_REGION", "sa-east-1");
    CHECK(aws::resolve_region("") == "sa-east-1");
    CHECK(aws::resolve_region("us-west-2") == "us-west-2");

    env.unset("AWS_REGION");
    env.unset("AWS_DEFAULT_REGION");
    env.set("AWS_PROFILE", "nobody");
    const auto none = error_of([] { aws::resolve_region(""); }, errc::bad_configuration);
    CHECK(contains(none, "no AWS region: set AWS_REGION"));
    CHECK(contains(none, "profile 'nobody'"));
}

TEST_CASE("resolve_endpoint: explicit, per-service and global variables, then the default")
{
    env_scope env;
    CHECK(aws::resolve_endpoint("SQS", "sqs", "", "eu-west-1") == "https://sqs.eu-west-1.amazonaws.com");
    CHECK(aws::resolve_endpoint("SQS", "sqs", "", "cn-north-1") == "https://sqs.cn-north-1.amazonaws.com.cn");
    env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    CHECK(aws::resolve_endpoint("SQS", "sqs", "", "eu-west-1") == "http://127.0.0.1:4566");
    env.set("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324");
    CHECK(aws::resolve_endpoint("SQS", "sqs", "", "eu-west-1") == "http://127.0.0.1:9324");
    CHECK(aws::resolve_endpoint("SNS", "sns", "", "eu-west-1") == "http://127.0.0.1:4566");
    CHECK(aws::resolve_endpoint("SQS", "sqs", "https://x.example", "eu-west-1") == "https://x.example");
    env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
    CHECK(aws::resolve_endpoint("SQS", "sqs", "", "eu-west-1") == "https://sqs.eu-west-1.amazonaws.com");
    CHECK(contains(error_of([] { aws::resolve_endpoint("SQS", "sqs", "", ""); }, errc::bad_configuration),
                   "no AWS region"));
    CHECK(contains(error_of([] { aws::resolve_endpoint("SQS", "sqs", "", "evil.com/x"); }, errc::bad_configuration),
                   "invalid AWS region"));
}

TEST_CASE("chain: environment credentials come first")
{
    env_scope env;
    env.set("AWS_SHARED_CREDENTIALS_FILE", env.write("credentials", "[default]\naws_access_key_id = FILE\n"
                                                                    "aws_secret_access_key = FILESECRET\n"));
    env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
    env.set("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
    env.set("AWS_SESSION_TOKEN", "ENVTOKEN");
    const auto creds = chain_get();
    CHECK(creds.access_key_id == "AKIDENV");
    CHECK(creds.secret_access_key == "ENVSECRET");
    CHECK(creds.session_token == "ENVTOKEN");
    CHECK_FALSE(creds.expiration);

    env.unset("AWS_SECRET_ACCESS_KEY"); // half-configured: skipped, the file applies
    CHECK(chain_get().access_key_id == "FILE");
}

TEST_CASE("chain: shared files, profiles and precedence")
{
    env_scope env;
    env.set("AWS_SHARED_CREDENTIALS_FILE", env.write("credentials", "[default]\naws_access_key_id = DEF\n"
                                                                    "aws_secret_access_key = DEFSECRET\n"
                                                                    "[dev]\naws_access_key_id = DEV\n"
                                                                    "aws_secret_access_key = DEVSECRET\n"
                                                                    "aws_session_token = DEVTOKEN\n"));
    env.set("AWS_CONFIG_FILE", env.write("config", "[profile dev]\naws_access_key_id = CONFIGDEV\n"
                                                   "[profile cfg]\naws_access_key_id = CFG\n"
                                                   "aws_secret_access_key = CFGSECRET\n"
                                                   "[profile proc]\ncredential_process = /bin/creds\n"
                                                   "[profile sso]\nsso_session = corp\n"));
    CHECK(chain_get().access_key_id == "DEF");
    env.set("AWS_PROFILE", "dev");
    const auto dev = chain_get();
    CHECK(dev.access_key_id == "DEV"); // the credentials file wins over the config file
    CHECK(dev.session_token == "DEVTOKEN");
    aws::credential_chain_options options = quiet();
    options.profile = "cfg"; // wins over AWS_PROFILE; keys may live in the config file too
    CHECK(chain_get(options).access_key_id == "CFG");

    auto failure = [&](const char* profile) {
        aws::credential_chain_options o = quiet();
        o.profile = profile;
        return error_of([&] { chain_get(o); }, errc::no_credentials);
    };
    CHECK(contains(failure("proc"), "profile 'proc' uses credential_process"));
    CHECK(contains(failure("sso"), "profile 'sso' uses SSO"));
    const auto missing = failure("nobody");
    CHECK(contains(missing, "profile 'nobody' not found in " + env.path("config")));

    env.set("AWS_CONFIG_FILE", env.write("broken", "[default]\nregion\n"));
    CHECK(contains(failure("nobody"), "broken:2: expected"));
}

TEST_CASE("chain: nothing configured lists every source and why it did not apply")
{
    env_scope env;
    const auto text = error_of([] { chain_get(); }, errc::no_credentials);
    CHECK(contains(text, "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set"));
    CHECK(contains(text, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set"));
    CHECK(contains(text, "shared files: profile 'default' not found in"));
    CHECK(contains(text, "(absent)"));
    CHECK(contains(text, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and"));
    CHECK(contains(text, "EC2 instance metadata: disabled"));

    env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/creds");
    CHECK(contains(error_of([] { chain_get(); }, errc::no_credentials), "uses http to host '192.0.2.10'"));
    CHECK_THROWS_AS(aws::static_credentials({}), courier::error);
}
