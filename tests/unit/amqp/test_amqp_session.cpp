// The AMQP 0-9-1 client state machine stepped by hand: the handshake, channels, deliveries
// split over body frames, publisher confirms (multiple, out of order, nack), returns,
// broker-side closes and cancels, blocked/unblocked, and protocol faults. Frames from the
// "broker" are written out in hex as the specification lays them out.
#include "amqp/session.hpp"
#include "amqp_test_bytes.hpp"
#include "test_support.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace courier::amqp;
using courier_test::hex;

namespace {

// A frame from hex payload text.
std::string frame(int type, std::uint16_t channel, const std::string& payload)
{
    std::string out;
    out += static_cast<char>(type);
    out += static_cast<char>(channel >> 8);
    out += static_cast<char>(channel & 0xff);
    for (int shift = 24; shift >= 0; shift -= 8)
        out += static_cast<char>((payload.size() >> shift) & 0xff);
    return out + payload + "\xce";
}
std::string method_frame(std::uint16_t channel, std::string_view payload_hex)
{
    return frame(1, channel, hex(payload_hex));
}

const std::string start_frame =
    method_frame(0, "000a 000a 00 09 00000015 07 70726f64756374 53 00000008 5261626269744d51"
                    "0000000e 504c41494e20414d51504c41494e 00000005 656e5f5553");

session open_session()
{
    session s({.login = "guest", .passcode = "guest"});
    s.start();
    s.on_bytes(start_frame);
    s.on_bytes(method_frame(0, "000a 001e 0800 00020000 003c"));
    s.on_bytes(method_frame(0, "000a 0029 00"));
    courier_test::next_event_as<opened_event>(s);
    s.open_channel(1);
    s.on_bytes(method_frame(1, "0014 000b 00000000"));
    courier_test::next_event_as<channel_opened_event>(s);
    s.output().clear();
    return s;
}

} // namespace

TEST_CASE("amqp session: handshake with SASL PLAIN, negotiated tune, vhost open")
{
    session s({.login = "user", .passcode = "pw", .virtual_host = "/", .heartbeat = std::chrono::seconds(10)});
    s.start();
    CHECK(s.output() == std::string("AMQP\0\0\x09\x01", 8));
    s.output().clear();
    s.on_bytes(start_frame.substr(0, 10)); // in pieces
    CHECK(s.output().empty());
    s.on_bytes(start_frame.substr(10));
    // start-ok: client properties, PLAIN, "\0user\0pw", en_US.
    frame_decoder d;
    d.feed(s.output());
    auto f = d.next();
    REQUIRE(f);
    reader r(f->payload);
    CHECK(r.u16("c") == 10);
    CHECK(r.u16("m") == 11);
    auto props = r.table("client-properties");
    CHECK(props.find("product")->value == field_value(std::string("courier")).value);
    auto caps = std::get<field_table>(props.find("capabilities")->value);
    CHECK(caps.find("publisher_confirms") != nullptr);
    CHECK(caps.find("consumer_cancel_notify") != nullptr);
    CHECK(caps.find("connection.blocked") != nullptr);
    CHECK(r.shortstr("mechanism") == "PLAIN");
    CHECK(r.longstr("response") == std::string("\0user\0pw", 8));
    CHECK(r.shortstr("locale") == "en_US");
    s.output().clear();

    s.on_bytes(method_frame(0, "000a 001e 0800 00020000 003c")); // channel_max 2048, frame_max 131072, heartbeat 60
    CHECK(s.output() == hex("01 0000 0000000c 000a 001f 07ff 00020000 000a ce")  // tune-ok 2047, 131072, 10
                            + hex("01 0000 00000008 000a 0028 01 2f 00 00 ce")); // open "/"
    CHECK(s.state() == session_state::handshake);
    s.on_bytes(method_frame(0, "000a 0029 00"));
    auto o = courier_test::next_event_as<opened_event>(s);
    CHECK(o.heartbeat == std::chrono::seconds(10));
    CHECK(o.frame_max == 131072);
    CHECK(o.channel_max == 2047);
    CHECK(o.server_product == "RabbitMQ");
    CHECK(s.state() == session_state::open);
}

TEST_CASE("amqp session: a heartbeat of 0 on one side takes the other's; a smaller frame_max wins")
{
    session s({.heartbeat = std::chrono::seconds(0), .frame_max = 131072});
    s.start();
    s.on_bytes(start_frame);
    s.output().clear();
    s.on_bytes(method_frame(0, "000a 001e 0000 00001000 001e")); // no channel limit, 4096, 30 s
    CHECK(s.output().substr(0, 20) == hex("01 0000 0000000c 000a 001f 07ff 00001000 001e ce"));
    CHECK(s.frame_max() == 4096);
}

TEST_CASE("amqp session: refused login is no_credentials with the broker's text, and close-ok is sent")
{
    session s({.passcode = "wrong"});
    s.start();
    s.on_bytes(start_frame);
    s.output().clear();
    // connection.close 403 "ACCESS_REFUSED", in answer to start-ok (10/11).
    s.on_bytes(method_frame(0, "000a 0032 0193 0e 4143434553535f52454655534544 000a 000b"));
    auto e = courier_test::next_event_as<error_event>(s);
    CHECK(e.error.code() == courier::errc::no_credentials);
    CHECK(e.error.context().server_code == "403");
    CHECK(e.error.context().server_message == "ACCESS_REFUSED");
    CHECK(e.error.context().action == "connection.start-ok");
    CHECK(s.output() == hex("01 0000 00000004 000a 0033 ce"));
    CHECK(s.state() == session_state::failed);
}

TEST_CASE("amqp session: a delivery split over body frames, ack, nack and reject")
{
    auto s = open_session();
    s.qos(1, 10);
    s.consume(1, "q", "c1");
    s.output().clear();
    s.on_bytes(method_frame(1, "003c 000b"));
    CHECK(std::holds_alternative<method::basic_qos_ok>(courier_test::next_event_as<method_ok_event>(s).reply));
    s.on_bytes(method_frame(1, "003c 0015 02 6331"));
    CHECK(std::get<method::basic_consume_ok>(courier_test::next_event_as<method_ok_event>(s).reply).consumer_tag ==
          "c1");
    // deliver tag 7, redelivered; header: body 6 octets, message-id "m1", headers {x-delivery-count: l 2};
    // then two body frames.
    s.on_bytes(method_frame(1, "003c 003c 02 6331 0000000000000007 01 00 01 71") +
               frame(2, 1,
                     hex("003c 0000 0000000000000006 2080 0000001a"
                         "10 782d64656c69766572792d636f756e74 6c 0000000000000002 02 6d31")) +
               frame(3, 1, "abc"));
    CHECK_FALSE(s.poll_event());
    s.on_bytes(frame(3, 1, "def"));
    auto d = courier_test::next_event_as<delivery_event>(s);
    CHECK(d.channel == 1);
    CHECK(d.deliver.delivery_tag == 7);
    CHECK(d.deliver.redelivered);
    CHECK(d.deliver.routing_key == "q");
    CHECK(d.body == "abcdef");
    CHECK(d.props.message_id == "m1");
    CHECK(d.props.headers->find("x-delivery-count")->value == field_value(std::int64_t(2)).value);
    // An empty body needs no body frame.
    s.on_bytes(method_frame(1, "003c 003c 02 6331 0000000000000008 00 00 01 71") +
               frame(2, 1, hex("003c 0000 0000000000000000 0000")));
    CHECK(courier_test::next_event_as<delivery_event>(s).body.empty());
    s.ack(1, 7);
    s.nack(1, 8, false, true);
    s.reject(1, 9, false);
    CHECK(s.output() == hex("01 0001 0000000d 003c 0050 0000000000000007 00 ce") +
                            hex("01 0001 0000000d 003c 0078 0000000000000008 02 ce") +
                            hex("01 0001 0000000d 003c 005a 0000000000000009 00 ce"));
}

namespace {

std::string ack_frame(std::uint64_t tag, bool multiple, std::uint16_t channel = 1)
{
    return hex(fmt::format("01 {:04x} 0000000d 003c 0050 {:016x} {} ce", channel, tag, multiple ? "01" : "00"));
}

} // namespace

TEST_CASE("amqp session: acks are written together, a settled run from the oldest unsettled as one multiple ack")
{
    auto s = open_session();
    // Nothing is written until the writer asks.
    s.ack(1, 2);
    s.ack(1, 1);
    s.ack(1, 3);
    CHECK(s.output().empty());
    s.write_acks();
    CHECK(s.output() == ack_frame(3, true));
    s.output().clear();

    // 4 is still in a handler: 5 and 6 go one by one, and nothing covers 4.
    s.ack(1, 6);
    s.ack(1, 5);
    s.write_acks();
    CHECK(s.output() == ack_frame(6, false) + ack_frame(5, false));
    s.output().clear();

    // 4 given back: the nack writes the acks queued before it first (8, alone), and 4 counts
    // as settled, so 7 then completes the run 1..8. Its multiple ack names 7, the highest tag
    // it acknowledges, not 8: the broker refuses a tag that is not outstanding any more.
    s.ack(1, 8);
    s.nack(1, 4, false, true);
    s.ack(1, 7);
    s.write_acks();
    CHECK(s.output() ==
          ack_frame(8, false) + hex("01 0001 0000000d 003c 0078 0000000000000004 02 ce") + ack_frame(7, true));
    s.output().clear();

    // A nack after acks that complete a run: the acks go first, as one multiple ack of their
    // highest tag.
    s.ack(1, 9);
    s.ack(1, 10);
    s.nack(1, 11, false, true);
    s.write_acks();
    CHECK(s.output() == ack_frame(10, true) + hex("01 0001 0000000d 003c 0078 000000000000000b 02 ce"));
    s.output().clear();

    // Closing the channel, or the connection, writes the queued acks before the close.
    s.ack(1, 12);
    s.close_channel(1);
    CHECK(s.output().starts_with(ack_frame(12, true)));
    s.output().clear();
    s.open_channel(2);
    s.on_bytes(method_frame(2, "0014 000b 00000000"));
    courier_test::next_event_as<channel_opened_event>(s);
    s.output().clear();
    s.ack(2, 1); // a new opening counts from 1
    s.close();
    CHECK(s.output().starts_with(ack_frame(1, true, 2)));
}

TEST_CASE("amqp session: a delivery unsettled for long stops the coalescing, and every ack is written alone")
{
    auto s = open_session();
    // Tag 1 stays in its handler while many later ones are acked.
    const std::uint64_t far = 2 + 65536;
    s.ack(1, 2);
    s.write_acks();
    CHECK(s.output() == ack_frame(2, false));
    s.output().clear();
    s.ack(1, far);
    s.ack(1, 1);
    s.write_acks();
    CHECK(s.output() == ack_frame(far, false) + ack_frame(1, false));
    s.output().clear();
    s.ack(1, 3);
    s.write_acks();
    CHECK(s.output() == ack_frame(3, false));
}

TEST_CASE("amqp session: coalesced acks, checked against a model of the broker's unacknowledged deliveries")
{
    // Handlers finish in random order, some messages are given back, some stay in their
    // handlers to the end, and the writer takes the output at random moments. The broker
    // model applies every frame as RabbitMQ does (a tag must be outstanding, `multiple`
    // settles every outstanding tag up to it) and checks that each delivery is settled the
    // way courier settled it, once.
    std::minstd_rand random(20261206);
    for (int round = 0; round < 200; ++round)
    {
        CAPTURE(round);
        auto s = open_session();
        const std::uint64_t delivered = 1 + random() % 300;
        std::vector<std::uint64_t> in_handlers;
        for (std::uint64_t tag = 1; tag <= delivered; ++tag)
            in_handlers.push_back(tag);
        std::map<std::uint64_t, char> outstanding; // at the broker: tag -> how courier settled it ('?' = not yet)
        for (std::uint64_t tag = 1; tag <= delivered; ++tag)
            outstanding[tag] = '?';
        std::set<std::uint64_t> acked, given_back;
        std::size_t read = 0;
        const auto broker_reads = [&] {
            const auto& out = s.output();
            for (; read < out.size(); read += 21)
            {
                REQUIRE(out.size() - read >= 21);
                std::uint64_t tag = 0;
                for (int i = 0; i < 8; ++i)
                    tag = (tag << 8) | static_cast<unsigned char>(out[read + 11 + i]);
                const auto method = static_cast<unsigned char>(out[read + 10]);
                const bool multiple = (out[read + 19] & 1) != 0;
                const auto it = outstanding.find(tag);
                REQUIRE_MESSAGE(it != outstanding.end(), "unknown delivery tag " << tag); // RabbitMQ closes the channel
                if (method == 0x78)                                                       // basic.nack
                {
                    CHECK(it->second == 'n');
                    outstanding.erase(it);
                    continue;
                }
                REQUIRE(method == 0x50); // basic.ack
                const auto end = std::next(it);
                for (auto i = multiple ? outstanding.begin() : it; i != end;)
                {
                    CHECK_MESSAGE(i->second == 'a', "tag " << i->first << " acked by the broker, settled '" << i->second
                                                           << "' by courier");
                    i = outstanding.erase(i);
                }
            }
        };
        std::shuffle(in_handlers.begin(), in_handlers.end(), random);
        const std::size_t left_in_handlers = random() % 3 == 0 ? random() % 4 : 0;
        while (in_handlers.size() > left_in_handlers)
        {
            const auto tag = in_handlers.back();
            in_handlers.pop_back();
            if (random() % 8 == 0)
            {
                outstanding[tag] = 'n';
                given_back.insert(tag);
                s.nack(1, tag, false, true);
            }
            else
            {
                outstanding[tag] = 'a';
                acked.insert(tag);
                s.ack(1, tag);
            }
            if (random() % 4 == 0)
                s.write_acks();
            broker_reads();
        }
        s.write_acks();
        broker_reads();
        // What courier settled is settled; what is still in a handler is still outstanding.
        REQUIRE(outstanding.size() == in_handlers.size());
        for (const auto tag : in_handlers)
            CHECK(outstanding.count(tag) == 1);
    }
}

TEST_CASE("amqp session: publisher confirms, multiple and out of order; nack; return before ack")
{
    auto s = open_session();
    s.confirm_select(1);
    s.on_bytes(method_frame(1, "0055 000b"));
    CHECK(std::holds_alternative<method::confirm_select_ok>(courier_test::next_event_as<method_ok_event>(s).reply));
    for (std::uint64_t i = 1; i <= 5; ++i)
        CHECK(s.publish(1, "", "q", true, {}, "x") == i);
    s.on_bytes(method_frame(1, "003c 0050 0000000000000002 01")); // ack 1..2
    CHECK(courier_test::next_event_as<confirm_event>(s).sequence == 1);
    CHECK(courier_test::next_event_as<confirm_event>(s).sequence == 2);
    s.on_bytes(method_frame(1, "003c 0050 0000000000000004 00")); // ack 4 alone
    auto c4 = courier_test::next_event_as<confirm_event>(s);
    CHECK((c4.sequence == 4 && c4.ack));
    s.on_bytes(method_frame(1, "003c 0078 0000000000000003 00")); // nack 3
    auto c3 = courier_test::next_event_as<confirm_event>(s);
    CHECK((c3.sequence == 3 && !c3.ack));
    s.on_bytes(method_frame(1, "003c 0050 0000000000000004 01")); // ack up to 4 again: nothing new
    CHECK_FALSE(s.poll_event());
    // basic.return 312 NO_ROUTE for publish 5, then its ack.
    s.on_bytes(method_frame(1, "003c 0032 0138 08 4e4f5f524f555445 00 01 71") +
               frame(2, 1, hex("003c 0000 0000000000000001 0080 02 6d35")) + frame(3, 1, "x") +
               method_frame(1, "003c 0050 0000000000000005 00"));
    auto r = courier_test::next_event_as<return_event>(s);
    CHECK(r.returned.reply_code == 312);
    CHECK(r.returned.reply_text == "NO_ROUTE");
    CHECK(r.props.message_id == "m5");
    CHECK(courier_test::next_event_as<confirm_event>(s).sequence == 5);
}

TEST_CASE("amqp session: the broker closes a channel, cancels a consumer, blocks publishing")
{
    auto s = open_session();
    s.open_channel(2);
    s.on_bytes(method_frame(2, "0014 000b 00000000"));
    courier_test::next_event_as<channel_opened_event>(s);
    s.output().clear();
    // channel.close 404 on channel 1, about queue.declare.
    s.on_bytes(method_frame(1, "0014 0028 0194 19 4e4f545f464f554e44202d206e6f2071756575652027782720 0032 000a"));
    auto c = courier_test::next_event_as<channel_closed_event>(s);
    CHECK(c.channel == 1);
    REQUIRE(c.error);
    CHECK(c.error->code() == courier::errc::not_found);
    CHECK(c.error->context().server_code == "404");
    CHECK(c.error->context().server_message == "NOT_FOUND - no queue 'x' ");
    CHECK(c.error->context().action == "queue.declare");
    CHECK(s.output() == hex("01 0001 00000004 0014 0029 ce"));
    CHECK_FALSE(s.channel_open(1));
    CHECK(s.channel_open(2));
    CHECK_THROWS_AS(s.ack(1, 1), std::logic_error);
    s.output().clear();

    s.on_bytes(method_frame(2, "003c 001e 02 6331 00")); // basic.cancel c1, no-wait off
    CHECK(courier_test::next_event_as<consumer_cancelled_event>(s).consumer_tag == "c1");
    CHECK(s.output() == hex("01 0002 00000007 003c 001f 02 6331 ce"));

    s.on_bytes(method_frame(0, "000a 003c 0d 6c6f77206f6e206d656d6f7279") + method_frame(0, "000a 003d"));
    CHECK(courier_test::next_event_as<blocked_event>(s).reason == "low on memory");
    courier_test::next_event_as<unblocked_event>(s);

    s.output().clear();
    s.close_channel(2);
    s.on_bytes(method_frame(2, "0014 0029"));
    CHECK_FALSE(courier_test::next_event_as<channel_closed_event>(s).error);
    s.close();
    s.on_bytes(method_frame(0, "000a 0033"));
    courier_test::next_event_as<closed_event>(s);
    CHECK(s.state() == session_state::closed);
}

TEST_CASE("amqp session: protocol faults close the connection with a reply code")
{
    auto fault = [](std::string bytes, std::string_view reason, std::string_view code_hex) {
        auto s = open_session();
        s.on_bytes(bytes);
        auto e = courier_test::next_event_as<error_event>(s);
        CHECK(e.error.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.error.what(), reason), e.error.what());
        CHECK(s.state() == session_state::failed);
        CHECK(s.output().substr(0, 13) == hex("01 0000") + s.output().substr(3, 4) + hex("000a 0032") + hex(code_hex));
    };
    fault(frame(3, 1, "x"), "content frame without basic.deliver", "01f9");
    fault(method_frame(7, "003c 000b"), "channel 7, which is not open", "01f8");
    fault(method_frame(1, "003c 003c 02 6331 0000000000000007 00 00 01 71") + method_frame(1, "003c 000b"),
          "method frame in the middle", "01f9");
    fault(method_frame(1, "003c 003c 02 6331 0000000000000007 00 00 01 71") +
              frame(2, 1, hex("003c 0000 0000000000000001 0000")) + frame(3, 1, "xy"),
          "longer than its content header", "01f5");
    fault(method_frame(1, "003c 0050 0000000000000001 00"), "not in confirm mode", "01f7");
    fault(frame(1, 1, hex("003c")), "ends inside a method id", "01f5");
}
