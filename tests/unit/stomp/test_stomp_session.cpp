// The STOMP client state machine stepped by hand: the frames it writes for each command,
// and the events it makes of the broker's frames (Boost.Redis run_fsm tests' style).
#include "stomp/session.hpp"
#include "test_support.hpp"

using namespace courier::stomp;
using namespace std::string_literals;

namespace {

session connected_session(session_options o = {.login = "guest", .passcode = "guest", .host = "/"})
{
    session s(std::move(o));
    s.connect();
    s.output().clear();
    s.on_bytes("CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"s);
    REQUIRE(s.poll_event().has_value());
    return s;
}

} // namespace

TEST_CASE("stomp session: CONNECT carries version, vhost, credentials and heart-beats; CONNECTED negotiates")
{
    session s({.login = "user",
               .passcode = "pw",
               .host = "vh1",
               .heartbeat_send = std::chrono::milliseconds(4000),
               .heartbeat_receive = std::chrono::milliseconds(6000)});
    CHECK(s.state() == session_state::idle);
    s.connect();
    CHECK(s.output() == "CONNECT\naccept-version:1.2\nhost:vh1\nheart-beat:4000,6000\nlogin:user\npasscode:pw\n\n\0"s);
    CHECK(s.state() == session_state::connecting);
    CHECK_FALSE(s.poll_event());
    // Server: sends every 5 s (sx), wants ours every 8 s (sy). Split mid-frame.
    s.on_bytes("CONNECTED\nversion:1.2\nserver:RabbitMQ/3.10.8\nsess");
    CHECK_FALSE(s.poll_event());
    s.on_bytes("ion:abc\nheart-beat:5000,8000\n\n\0"s);
    auto c = courier_test::next_event_as<connected_event>(s);
    CHECK(c.server == "RabbitMQ/3.10.8");
    CHECK(c.session == "abc");
    CHECK(c.send_every == std::chrono::milliseconds(8000));    // max(4000, 8000)
    CHECK(c.receive_every == std::chrono::milliseconds(6000)); // max(6000, 5000)
    CHECK(s.state() == session_state::connected);
}

TEST_CASE("stomp session: heart-beats off on either side are off")
{
    session s({.heartbeat_send = std::chrono::milliseconds(0), .heartbeat_receive = std::chrono::milliseconds(1000)});
    s.connect();
    s.on_bytes("CONNECTED\nversion:1.2\nheart-beat:0,500\n\n\0"s);
    auto c = courier_test::next_event_as<connected_event>(s);
    CHECK(c.send_every.count() == 0);
    CHECK(c.receive_every.count() == 0);
}

TEST_CASE("stomp session: SUBSCRIBE with client-individual and prefetch-count; MESSAGE; ACK and NACK")
{
    auto s = connected_session();
    s.subscribe("sub-1", "/queue/orders", 32, {{"durable", "true"}});
    CHECK(
        s.output() ==
        "SUBSCRIBE\nid:sub-1\ndestination:/queue/orders\nack:client-individual\nprefetch-count:32\ndurable:true\n\n\0"s);
    s.output().clear();
    s.on_bytes("MESSAGE\nsubscription:sub-1\ndestination:/queue/orders\nmessage-id:T_sub-1@@session-x@@1\n"
               "redelivered:true\nack:T_sub-1\\c1\namqp-message-id:m-1\ncontent-length:5\n\nhello\0\n"s);
    auto m = courier_test::next_event_as<message_event>(s);
    CHECK(m.subscription == "sub-1");
    CHECK(m.ack_id == "T_sub-1:1");
    CHECK(m.redelivered);
    CHECK(m.f.header("destination") == "/queue/orders");
    CHECK(m.f.header("message-id") == "T_sub-1@@session-x@@1");
    CHECK(m.f.body == "hello");
    CHECK(m.f.header("amqp-message-id") == "m-1");
    s.ack(m.ack_id);
    s.nack("T_sub-1:2");
    CHECK(s.output() == "ACK\nid:T_sub-1\\c1\n\n\0NACK\nid:T_sub-1\\c2\n\n\0"s);
}

TEST_CASE("stomp session: SEND asks for a receipt and RECEIPT confirms it; DISCONNECT ends with its receipt")
{
    auto s = connected_session();
    auto r1 = s.send("/queue/q", "body-1", {{"persistent", "true"}, {"receipt", "ignored"}});
    auto r2 = s.send("/queue/q", "");
    CHECK(r1 == 1);
    CHECK(r2 == 2);
    CHECK(s.output() == "SEND\npersistent:true\ndestination:/queue/q\nreceipt:1\ncontent-length:6\n\nbody-1\0"
                        "SEND\ndestination:/queue/q\nreceipt:2\ncontent-length:0\n\n\0"s);
    s.output().clear();
    s.on_bytes("RECEIPT\nreceipt-id:2\n\n\0RECEIPT\nreceipt-id:1\n\n\0"s);
    CHECK(courier_test::next_event_as<receipt_event>(s).receipt == 2);
    CHECK(courier_test::next_event_as<receipt_event>(s).receipt == 1);
    s.disconnect();
    CHECK(s.output() == "DISCONNECT\nreceipt:3\n\n\0"s);
    CHECK(s.state() == session_state::disconnecting);
    // Messages still in flight may arrive before the receipt.
    s.on_bytes("MESSAGE\nsubscription:a\nmessage-id:1\nack:1\n\nx\0RECEIPT\nreceipt-id:3\n\n\0"s);
    courier_test::next_event_as<message_event>(s);
    courier_test::next_event_as<disconnected_event>(s);
    CHECK(s.state() == session_state::closed);
}

TEST_CASE("stomp session: an ERROR frame becomes a server_error with the server's message")
{
    session s({.login = "guest", .passcode = "wrong"});
    s.connect();
    s.on_bytes("ERROR\nmessage:Access refused\ncontent-type:text/plain\n\nAccess refused for user 'guest'\0"s);
    auto e = courier_test::next_event_as<error_event>(s);
    CHECK(e.error.code() == courier::errc::server_error);
    CHECK(e.error.context().server_message == "Access refused");
    CHECK(courier_test::contains(e.error.what(), "refused the connection: Access refused for user 'guest'"));
    CHECK(s.state() == session_state::failed);
    s.on_bytes("CONNECTED\nversion:1.2\n\n\0"s); // ignored after a failure
    CHECK_FALSE(s.poll_event());

    auto c = connected_session();
    c.send("/exchange/missing/x", "body");
    c.on_bytes("ERROR\nmessage:not_found\nreceipt-id:1\n\nNO_ROUTE\0"s);
    auto e2 = courier_test::next_event_as<error_event>(c);
    CHECK(e2.receipt == 1);
    CHECK(courier_test::contains(e2.error.what(), "sent an ERROR frame: NO_ROUTE"));
    CHECK(e2.error.context().server_message == "not_found");
}

TEST_CASE("stomp session: RabbitMQ's ERROR for a delivery under way at UNSUBSCRIBE says what happened and "
          "still fails the session (only closing the connection requeues that delivery)")
{
    auto s = connected_session();
    s.subscribe("sub-1", "/queue/a", 10);
    s.subscribe("sub-2", "/queue/b", 10);
    s.unsubscribe("sub-1");
    s.on_bytes("ERROR\nmessage:Subscription not found\ncontent-type:text/plain\n\n"
               "There is no current subscription with tag 'T_sub-1'.\0"s);
    auto e = courier_test::next_event_as<error_event>(s);
    CHECK(e.error.code() == courier::errc::server_error);
    CHECK(e.error.context().server_message == "Subscription not found");
    CHECK(courier_test::contains(e.error.what(), "delivery under way to subscription 'sub-1' when it was "
                                                 "unsubscribed"));
    CHECK(courier_test::contains(e.error.what(), "the connection is reopened so that the broker requeues it"));
    CHECK(e.late_delivery);
    CHECK(s.state() == session_state::failed);

    // The same ERROR for a subscription never unsubscribed is reported as the broker wrote it.
    auto c = connected_session();
    c.subscribe("sub-1", "/queue/a", 10);
    c.on_bytes("ERROR\nmessage:Subscription not found\n\nThere is no current subscription with tag 'T_sub-1'.\0"s);
    auto e2 = courier_test::next_event_as<error_event>(c);
    CHECK(courier_test::contains(e2.error.what(), "sent an ERROR frame: There is no current subscription"));
    CHECK_FALSE(e2.late_delivery);
}

TEST_CASE("stomp session: protocol violations fail the session")
{
    auto fails_with = [](session s, std::string wire, std::string_view reason) {
        s.on_bytes(wire);
        auto e = courier_test::next_event_as<error_event>(s);
        CHECK(e.error.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.error.what(), reason), e.error.what());
        CHECK(s.state() == session_state::failed);
    };
    session fresh({});
    fresh.connect();
    fails_with(std::move(fresh), "CONNECTED\nversion:1.1\n\n\0"s, "version 1.2");
    session hb({});
    hb.connect();
    fails_with(std::move(hb), "CONNECTED\nversion:1.2\nheart-beat:x\n\n\0"s, "heart-beat");
    fails_with(connected_session(), "MESSAGE\nsubscription:a\n\n\0"s, "without a subscription");
    fails_with(connected_session(), "RECEIPT\nreceipt-id:99\n\n\0"s, "never asked for");
    fails_with(connected_session(), "CONNECTED\nversion:1.2\n\n\0"s, "unexpected STOMP CONNECTED");
    fails_with(connected_session(), "BOGUS\n\n\0"s, "unknown STOMP server frame BOGUS");
    fails_with(connected_session(), "MESSAGE\nx:\\q\n\n\0"s, "undefined escape");
}

TEST_CASE("stomp session: commands out of state are programming errors")
{
    session s({});
    CHECK_THROWS_AS(s.subscribe("a", "/queue/a", 1), std::logic_error);
    CHECK_THROWS_AS(s.send("/queue/a", "x"), std::logic_error);
    s.connect();
    CHECK_THROWS_AS(s.connect(), std::logic_error);
}
