// STOMP 1.2 frame encoding and decoding: escapes, content-length bodies, NUL-terminated
// bodies, heart-beats, bytes arriving one at a time, and the limits.
#include "stomp/frame.hpp"
#include "test_support.hpp"

using courier::stomp::decoder;
using courier::stomp::frame;
using namespace std::string_literals;

namespace {

// Decodes every frame (heart-beats as "<EOL>") in `bytes`, fed `chunk` bytes at a time.
std::vector<frame> decode_all(std::string_view bytes, std::size_t chunk = 1 << 20,
                              courier::stomp::decoder_limits limits = {}, int* heartbeats = nullptr)
{
    decoder d(limits);
    std::vector<frame> frames;
    for (std::size_t i = 0; i < bytes.size(); i += chunk)
    {
        d.feed(bytes.substr(i, chunk));
        frame f;
        for (;;)
        {
            auto r = d.next(f);
            if (r == decoder::result::need_more)
                break;
            if (r == decoder::result::frame)
                frames.push_back(std::move(f));
            else if (heartbeats)
                ++*heartbeats;
        }
    }
    CHECK(d.buffered() == 0);
    return frames;
}

} // namespace

TEST_CASE("stomp frame: encodes with escapes, and CONNECT without them")
{
    frame send{
        .command = "SEND", .headers = {{"destination", "/queue/a:b"}, {"note", "line1\nline2\\x\r"}}, .body = "hi"};
    CHECK(courier::stomp::encode(send) ==
          "SEND\ndestination:/queue/a\\cb\nnote:line1\\nline2\\\\x\\r\ncontent-length:2\n\nhi\0"s);

    frame connect{.command = "CONNECT", .headers = {{"accept-version", "1.2"}, {"passcode", "p:w"}}, .body = {}};
    CHECK(courier::stomp::encode(connect) == "CONNECT\naccept-version:1.2\npasscode:p:w\n\n\0"s);

    frame bad{.command = "CONNECT", .headers = {{"passcode", "secret\nline"}}, .body = {}};
    auto e = courier_test::error_from([&] { courier::stomp::encode(bad); });
    CHECK(e.code() == courier::errc::bad_configuration);
    CHECK_FALSE(courier_test::contains(e.what(), "secret"));
}

TEST_CASE("stomp frame: an ACK or NACK encoded from views equals the frame's encoding")
{
    const std::string id = "T_sub:1@@session\\x\r\n@@7";
    std::string wire;
    courier::stomp::encode("ACK", {{"id", id}}, wire);
    CHECK(wire == courier::stomp::encode(frame{.command = "ACK", .headers = {{"id", id}}, .body = {}}));
    CHECK(wire == "ACK\nid:T_sub\\c1@@session\\\\x\\r\\n@@7\n\n\0"s);
    wire.clear();
    courier::stomp::encode("NACK", {{"id", "plain"}, {"requeue", "false"}}, wire);
    CHECK(wire == "NACK\nid:plain\nrequeue:false\n\n\0"s);
}

TEST_CASE("stomp frame: decodes escapes both ways, raw CONNECTED, the first repeated header wins")
{
    std::string wire = "MESSAGE\nsubscription:s\\c1\nmessage-id:T_s\\c1@@x\\\\y\\ny\\rz\n"
                       "ack:a\nack:b\n\nbody\0"s +
                       "CONNECTED\nversion:1.2\nserver:a\\cb\n\n\0"s;
    auto frames = decode_all(wire);
    REQUIRE(frames.size() == 2);
    CHECK(frames[0].command == "MESSAGE");
    CHECK(frames[0].header("subscription") == "s:1");
    CHECK(frames[0].header("message-id") == "T_s:1@@x\\y\ny\rz");
    CHECK(frames[0].header("ack") == "a");
    CHECK(frames[0].body == "body");
    CHECK(frames[1].header("server") == "a\\cb"); // CONNECTED: no unescaping
    // Encoding what was decoded gives the same headers back, plus the body's length.
    auto again = decode_all(courier::stomp::encode(frames[0]));
    REQUIRE(again.size() == 1);
    auto expected = frames[0].headers;
    expected.emplace_back("content-length", "4");
    CHECK(again[0].headers == expected);
}

TEST_CASE("stomp frame: take_header moves the first value out and leaves the header, empty")
{
    frame f{.command = "MESSAGE", .headers = {{"ack", "T_1@@session-long-enough-to-allocate@@7"}, {"ack", "second"}}};
    CHECK(f.take_header("ack") == "T_1@@session-long-enough-to-allocate@@7");
    CHECK(f.has_header("ack"));
    CHECK(f.header("ack").empty());
    CHECK(f.headers[1].second == "second");
    CHECK(f.take_header("missing").empty());
    CHECK(f.headers.size() == 2);
}

TEST_CASE("stomp frame: content-length bodies may hold NULs; CRLF lines; heart-beats between frames")
{
    std::string body("a\0b\0", 4);
    std::string wire =
        "\n\r\nMESSAGE\r\ncontent-length:4\r\nx:y\r\n\r\n" + body + "\0\n\n"s + "RECEIPT\nreceipt-id:7\n\n\0"s;
    for (std::size_t chunk : {std::size_t(1), std::size_t(2), std::size_t(7), wire.size()})
    {
        CAPTURE(chunk);
        int heartbeats = 0;
        auto frames = decode_all(wire, chunk, {}, &heartbeats);
        REQUIRE(frames.size() == 2);
        CHECK(frames[0].body == body);
        CHECK(frames[0].header("x") == "y");
        CHECK(frames[1].header("receipt-id") == "7");
        CHECK(heartbeats == 4);
    }
}

TEST_CASE("stomp frame: malformed frames are refused with a reason")
{
    auto refuse = [](std::string wire, std::string_view reason, courier::stomp::decoder_limits limits = {}) {
        CAPTURE(wire);
        decoder d(limits);
        d.feed(wire);
        frame f;
        auto e = courier_test::error_from([&] {
            while (d.next(f) != decoder::result::need_more)
            {
            }
        });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.what(), reason), e.what());
    };
    refuse("MESSAGE\nx:a\\tb\n\n\0"s, "undefined escape");
    refuse("MESSAGE\nx:a\\\n\n\0"s, "undefined escape");
    refuse("MESSAGE\nnocolon\n\n\0"s, "without a colon");
    refuse("MESSAGE\ncontent-length:x1\n\n\0"s, "not a number");
    refuse("MESSAGE\ncontent-length:-1\n\n\0"s, "not a number");
    refuse("MESSAGE\ncontent-length:2\n\nabc\0"s, "no NUL");
    refuse("message\n\n\0"s, "upper-case");
    refuse("\rX", "carriage return");
    refuse("MESSAGE\ncontent-length:100\n\n"s, "over the limit", {.max_body_bytes = 10});
    refuse("MESSAGE\n" + std::string(100, 'a'), "header section longer", {.max_header_bytes = 50});
    refuse("MESSAGE\nx:" + std::string(100, 'a') + "\n\n", "header section longer", {.max_header_bytes = 50});
    refuse("MESSAGE\n\n" + std::string(100, 'a'), "body longer", {.max_body_bytes = 10});
    refuse("MESSAGE\na:1\nb:2\nc:3\n\n", "more than 2 headers", {.max_headers = 2});
}

TEST_CASE("stomp frame: a frame arriving byte by byte is not rescanned from its start")
{
    // 200 KiB of body in 1-byte pieces: quadratic rescanning would take minutes.
    std::string body(200 << 10, 'x');
    std::string wire = "MESSAGE\nk:v\n\n" + body + std::string(1, '\0');
    decoder d;
    frame f;
    int frames = 0;
    for (char c : wire)
    {
        d.feed(std::string_view(&c, 1));
        while (d.next(f) == decoder::result::frame)
            ++frames;
    }
    CHECK(frames == 1);
    CHECK(f.body.size() == body.size());
}
