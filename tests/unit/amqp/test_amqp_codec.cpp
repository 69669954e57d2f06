// AMQP 0-9-1 codec: field tables with every type, frames and methods byte for byte as the
// specification lays them out (amqp0-9-1.xml field order, bits packed LSB first, frame end
// 0xCE), and the decoder's refusals.
#include "amqp/frame.hpp"
#include "amqp/methods.hpp"
#include "amqp/wire.hpp"
#include "amqp_test_bytes.hpp"
#include "test_support.hpp"

using namespace courier::amqp;
using courier_test::hex;

TEST_CASE("amqp wire: a field table with every value type RabbitMQ sends round-trips")
{
    field_table nested;
    nested.set("deep", std::string("x"));
    field_table t;
    t.set("bool", true);
    t.set("i8", std::int8_t(-2));
    t.set("u8", std::uint8_t(200));
    t.set("i16", std::int16_t(-300));
    t.set("u16", std::uint16_t(60000));
    t.set("i32", std::int32_t(-70000));
    t.set("u32", std::uint32_t(4000000000u));
    t.set("i64", std::int64_t(-5000000000));
    t.set("f", 1.5f);
    t.set("d", -2.25);
    t.set("dec", decimal_value{2, 12345});
    t.set("str", std::string("hello\0world", 11));
    t.set("bytes", byte_array{std::string("\x00\xff", 2)});
    t.set("ts", timestamp_value{1700000000});
    t.set("void", void_value{});
    t.set("array", field_array{{std::int32_t(1), std::string("two"), nested}});
    t.set("table", nested);
    std::string out;
    put_table(out, t);
    reader r(out);
    CHECK(r.table("test") == t);
    CHECK(r.remaining() == 0);
}

TEST_CASE("amqp wire: tags and layout are RabbitMQ's, byte for byte")
{
    field_table t;
    t.set("a", std::int32_t(1));
    t.set("s", std::int16_t(-1));
    t.set("x-delivery-count", std::int64_t(3));
    std::string out;
    put_table(out, t);
    CHECK(out == hex("00000026 01 61 49 00000001 01 73 73 ffff"
                     "10 782d64656c69766572792d636f756e74 6c 0000000000000003"));
    // The specification's own tags for int16 and int64 are read too.
    const std::string short_l = hex("00000009 01 61 55 fffe 01 62 4c 00");
    reader r(short_l);
    CHECK_THROWS_AS(r.table("t"), courier::error); // 'L' needs 8 octets: truncated
    const std::string spec_tags = hex("00000010 01 61 55 fffe 01 62 4c 0000000000000007");
    reader ok(spec_tags);
    auto parsed = ok.table("t");
    CHECK(parsed.find("a")->value == field_value(std::int16_t(-2)).value);
    CHECK(parsed.find("b")->value == field_value(std::int64_t(7)).value);
}

TEST_CASE("amqp wire: malformed tables are refused with what was being read")
{
    auto refuse = [](std::string bytes, std::string_view reason) {
        reader r(bytes);
        auto e = courier_test::error_from([&] { r.table("the headers"); });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.what(), reason), e.what());
    };
    refuse(hex("00000010 01 61"), "ends inside the headers");
    refuse(hex("00000003 01 61 51"), "unknown AMQP field value type 0x51");
    refuse(hex("00000006 01 61 53 000000ff"), "ends inside");
    std::string deep;
    for (int i = 0; i < 40; ++i)
        deep = hex("01 61 46") + [&] {
            std::string s;
            put_u32(s, static_cast<std::uint32_t>(deep.size()));
            return s;
        }() + deep;
    std::string top;
    put_u32(top, static_cast<std::uint32_t>(deep.size()));
    refuse(top + deep, "nested deeper");
    std::string too_long(256, 'a');
    std::string out;
    CHECK_THROWS_AS(put_shortstr(out, too_long), courier::error);
}

TEST_CASE("amqp methods: client methods are byte-exact")
{
    std::string out;
    send_basic_ack(out, 1, 5);
    CHECK(out == hex("01 0001 0000000d 003c 0050 0000000000000005 00 ce"));
    out.clear();
    send_basic_nack(out, 1, 7, true, true);
    CHECK(out == hex("01 0001 0000000d 003c 0078 0000000000000007 03 ce"));
    out.clear();
    send_basic_reject(out, 2, 9, false);
    CHECK(out == hex("01 0002 0000000d 003c 005a 0000000000000009 00 ce"));
    out.clear();
    send_queue_declare(out, 1, {.queue = "q", .durable = true});
    CHECK(out == hex("01 0001 0000000d 0032 000a 0000 01 71 02 00000000 ce"));
    out.clear();
    send_basic_qos(out, 1, 10);
    CHECK(out == hex("01 0001 0000000b 003c 000a 00000000 000a 00 ce"));
    out.clear();
    send_tune_ok(out, 2047, 131072, 10);
    CHECK(out == hex("01 0000 0000000c 000a 001f 07ff 00020000 000a ce"));
    out.clear();
    send_connection_open(out, "/");
    CHECK(out == hex("01 0000 00000008 000a 0028 01 2f 00 00 ce"));
    out.clear();
    send_basic_consume(out, 1, "q", "c1");
    CHECK(out == hex("01 0001 00000010 003c 0014 0000 01 71 02 6331 00 00000000 ce"));
    out.clear();
    send_confirm_select(out, 3);
    CHECK(out == hex("01 0003 00000005 0055 000a 00 ce"));
    out.clear();
    send_channel_close_ok(out, 1);
    CHECK(out == hex("01 0001 00000004 0014 0029 ce"));
    out.clear();
    send_exchange_declare(out, 1, {.exchange = "e", .type = "topic"});
    CHECK(out == hex("01 0001 00000013 0028 000a 0000 01 65 05 746f706963 02 00000000 ce"));
    out.clear();
    send_queue_bind(out, 1, "q", "e", "k");
    CHECK(out == hex("01 0001 00000011 0032 0014 0000 01 71 01 65 01 6b 00 00000000 ce"));
}

TEST_CASE("amqp methods: publish splits the body by frame_max and carries the properties")
{
    properties p;
    p.content_type = "text/plain";
    p.delivery_mode = 2;
    p.message_id = "m1";
    std::string out;
    send_basic_publish(out, 1, "", "q", true, p, "abcdefghij", 12); // 4 body octets per frame
    std::string expected = hex("01 0001 0000000a 003c 0028 0000 00 01 71 01 ce") +
                           hex("02 0001 0000001d 003c 0000 000000000000000a 9080 0a") + "text/plain" +
                           hex("02 02 6d31 ce") + hex("03 0001 00000004") + "abcd" + hex("ce") +
                           hex("03 0001 00000004") + "efgh" + hex("ce") + hex("03 0001 00000002") + "ij" + hex("ce");
    CHECK(out == expected);

    // And the decoder reads back what was written.
    frame_decoder d(4096);
    d.feed(out);
    auto m = d.next();
    REQUIRE(m);
    CHECK(m->type == frame_type::method);
    auto h = d.next();
    REQUIRE(h);
    auto header = decode_content_header(h->payload);
    CHECK(header.body_size == 10);
    CHECK(header.props.content_type == "text/plain");
    CHECK(header.props.delivery_mode == 2);
    CHECK(header.props.message_id == "m1");
    CHECK_FALSE(header.props.headers);
}

TEST_CASE("amqp methods: server methods decode; unknown ones are named")
{
    auto deliver = decode_method(hex("003c 003c 03 637461 0000000000000102 01 01 65 02 726b"));
    auto& d = std::get<method::basic_deliver>(deliver);
    CHECK(d.consumer_tag == "cta");
    CHECK(d.delivery_tag == 0x102);
    CHECK(d.redelivered);
    CHECK(d.exchange == "e");
    CHECK(d.routing_key == "rk");
    auto close = std::get<method::channel_close>(decode_method(hex("0014 0028 0194 03 4e4f50 0032 000a")));
    CHECK(close.reply_code == 404);
    CHECK(close.reply_text == "NOP");
    CHECK(method_name(close.class_id, close.method_id) == "queue.declare");
    auto e = courier_test::error_from([] { decode_method(hex("003c 0028 0000")); });
    CHECK(courier_test::contains(e.what(), "unexpected AMQP method basic.publish"));
    CHECK_THROWS_AS(decode_method(hex("003c")), courier::error);
}

TEST_CASE("amqp frames: decoder across pieces; refusals")
{
    std::string two = hex("08 0000 00000000 ce") + hex("01 0001 00000004 0014 0029 ce");
    frame_decoder d;
    for (char c : two)
        d.feed(std::string_view(&c, 1));
    auto hb = d.next();
    REQUIRE(hb);
    CHECK(hb->type == frame_type::heartbeat);
    auto m = d.next();
    REQUIRE(m);
    CHECK(m->channel == 1);
    CHECK(m->payload == hex("0014 0029"));
    CHECK_FALSE(d.next());

    auto refuse = [](std::string bytes, std::string_view reason, std::size_t max = 4096) {
        frame_decoder dec(max);
        dec.feed(bytes);
        auto e = courier_test::error_from([&] { dec.next(); });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.what(), reason), e.what());
    };
    refuse(hex("01 0000 00000002 0000 cd"), "does not end with 0xCE");
    refuse(hex("05 0000 00000000 ce"), "unknown AMQP frame type 5");
    refuse(hex("03 0001 00100000"), "larger than frame_max 4096");
    refuse(std::string("AMQP") + hex("00 00 09 00"), "answered with protocol header AMQP 0-0-9-0");
}
