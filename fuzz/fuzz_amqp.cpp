// Fuzz target: the AMQP 0-9-1 frame decoder, method and content header decoders, field
// tables, and the client session (src/amqp/*.cpp without the connection), which read every
// byte a broker sends: entirely outside data.
//
// Input: byte 0 sets the size of the pieces the bytes arrive in (1..256), the rest is the
// stream, read (1) frame by frame with each payload decoded as its type says, (2) as a field
// table, and (3) by a session past its protocol header. Contract: only `courier::error` with
// errc::bad_response escapes the decoders; a decoded table encodes, decodes and encodes to
// the same bytes;
// the session never throws and fails with one error event at most.
#include "amqp/frame.hpp"
#include "amqp/methods.hpp"
#include "amqp/session.hpp"
#include "amqp/wire.hpp"

#include <courier/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace courier::amqp;

namespace {

template <class F> void expect_bad_response_only(F&& f)
{
    try
    {
        f();
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::bad_response)
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t piece = std::size_t(data[0]) + 1;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

    expect_bad_response_only([&] {
        frame_decoder d(8192);
        for (std::size_t at = 0; at < bytes.size(); at += piece)
        {
            d.feed(bytes.substr(at, piece));
            while (auto f = d.next())
            {
                if (f->type == frame_type::method)
                    expect_bad_response_only([&] { decode_method(f->payload); });
                else if (f->type == frame_type::header)
                    expect_bad_response_only([&] { decode_content_header(f->payload); });
            }
        }
    });

    expect_bad_response_only([&] {
        reader r(bytes);
        auto table = r.table("fuzz");
        // Compared as bytes, not values: a NaN float is not equal to itself.
        std::string encoded, reencoded;
        put_table(encoded, table);
        reader back(encoded);
        put_table(reencoded, back.table("again"));
        if (encoded != reencoded)
            std::abort();
    });

    session s({});
    s.start();
    for (std::size_t at = 0; at < bytes.size(); at += piece)
        s.on_bytes(bytes.substr(at, piece));
    int errors = 0;
    while (auto e = s.poll_event())
        errors += std::holds_alternative<error_event>(*e);
    if (errors > 1 || (errors == 1) != (s.state() == session_state::failed))
        std::abort();
    return 0;
}
