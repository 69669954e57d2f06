// Fuzz target: the STOMP 1.2 frame decoder and client session (src/stomp/frame.cpp,
// src/stomp/session.cpp), which read every byte a broker sends: entirely outside data.
//
// Input: byte 0 sets the size of the pieces the bytes arrive in (1..256), the rest is the
// stream. Contract: the decoder yields frames or throws `courier::error` with
// errc::bad_response and nothing else; a decoded frame encodes and decodes back to the same
// command, headers and body (plus a content-length); the session never throws, and fails
// with one error event at most.
#include "stomp/frame.hpp"
#include "stomp/session.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace courier::stomp;

namespace {

void check_roundtrip(const frame& f)
{
    std::string wire;
    try
    {
        encode(f, wire);
    }
    catch (const courier::error&)
    {
        return; // CONNECTED with a line break in a header cannot be encoded: expected
    }
    decoder d;
    d.feed(wire);
    frame back;
    if (d.next(back) != decoder::result::frame || back.command != f.command || back.body != f.body)
        std::abort();
    for (std::size_t i = 0; i < f.headers.size(); ++i)
        if (back.headers.size() <= i || back.headers[i] != f.headers[i])
            std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t piece = std::size_t(data[0]) + 1;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

    decoder d({.max_header_bytes = 4096, .max_headers = 64, .max_body_bytes = 8192});
    try
    {
        for (std::size_t at = 0; at < bytes.size(); at += piece)
        {
            d.feed(bytes.substr(at, piece));
            frame f;
            for (auto r = d.next(f); r != decoder::result::need_more; r = d.next(f))
                if (r == decoder::result::frame)
                    check_roundtrip(f);
        }
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_response)
            std::abort();
    }

    session s({.login = "guest", .passcode = "guest"});
    s.connect();
    for (std::size_t at = 0; at < bytes.size(); at += piece)
        s.on_bytes(bytes.substr(at, piece));
    int errors = 0;
    while (auto e = s.poll_event())
        errors += std::holds_alternative<error_event>(*e);
    if (errors > 1 || (errors == 1) != (s.state() == session_state::failed))
        std::abort();
    return 0;
}
