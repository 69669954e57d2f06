// Broker URLs: stomp:// and amqp:// with credentials, ports, the default vhost written as a
// bare trailing slash, and clear errors that never quote a password.
#include "test_support.hpp"

#include <courier/amqp/options.hpp>
#include <courier/stomp/options.hpp>

using namespace courier_test;
namespace amqp = courier::amqp;
namespace stomp = courier::stomp;

TEST_CASE("broker url: stomp URLs; the password never shows in an error")
{
    auto o = stomp::parse_url("stomp://user:p%40ss@127.0.0.1:61614/");
    CHECK(o.host == "127.0.0.1");
    CHECK(o.port == 61614);
    CHECK(o.login == "user");
    CHECK(o.passcode == "p@ss");
    CHECK(o.virtual_host == "/");
    CHECK(stomp::parse_url("stomp://h/vh1").virtual_host == "vh1");
    CHECK(stomp::parse_url("stomp://h").port == 61613);
    auto e = error_from([] { stomp::parse_url("amqp://u:secret@h:1/"); });
    CHECK(e.code() == courier::errc::bad_configuration);
    CHECK_FALSE(contains(e.what(), "secret"));
    CHECK(contains(error_from([] { stomp::parse_url("stomp://h:0/"); }).what(), "port"));
    CHECK(contains(error_from([] { stomp::parse_url("stomp://h/a/b"); }).what(), "one virtual host"));
    CHECK(contains(error_from([] { stomp::parse_url("not a url"); }).what(), "not a URL"));
}

TEST_CASE("broker url: amqp URLs; a bare / and %2F are vhost /; IPv6 hosts")
{
    auto o = amqp::parse_url("amqp://user:pw@127.0.0.1:5673/");
    CHECK(o.port == 5673);
    CHECK(o.login == "user");
    CHECK(o.passcode == "pw");
    CHECK(o.virtual_host == "/");
    CHECK(amqp::parse_url("amqp://h/%2F").virtual_host == "/");
    CHECK(amqp::parse_url("amqp://h/prod").virtual_host == "prod");
    CHECK(amqp::parse_url("amqp://h").port == 5672);
    CHECK(amqp::parse_url("amqp://[::1]:5672/").host == "::1");
    auto e = error_from([] { amqp::parse_url("amqp://u:secret@h:99999/"); });
    CHECK(contains(e.what(), "port"));
    CHECK_FALSE(contains(e.what(), "secret"));
    CHECK(contains(error_from([] { amqp::parse_url("amqp://h/v?x=1"); }).what(), "query"));
}
