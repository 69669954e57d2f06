// The STOMP 1.2 client state machine (see session.hpp).
#include "stomp/session.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace courier::stomp {
namespace {

// "cx,cy" of a heart-beat header; nullopt when malformed.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_heartbeat(std::string_view value)
{
    auto comma = value.find(',');
    if (comma == std::string_view::npos)
        return std::nullopt;
    std::uint64_t x = 0, y = 0;
    auto parse = [](std::string_view s, std::uint64_t& v) {
        while (!s.empty() && s.front() == ' ')
            s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ')
            s.remove_suffix(1);
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
    };
    if (!parse(value.substr(0, comma), x) || !parse(value.substr(comma + 1), y))
        return std::nullopt;
    return std::pair{x, y};
}

// STOMP 1.2: a side sends every max(its offer, the other's wish) when both are non-zero.
std::chrono::milliseconds negotiate(std::uint64_t ours, std::uint64_t theirs)
{
    if (ours == 0 || theirs == 0)
        return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(std::max(ours, theirs));
}

// A server's text, cut to a length that keeps a log line readable.
std::string clip(std::string_view text, std::size_t limit = 1024)
{
    std::string out(text.substr(0, limit));
    if (text.size() > limit)
        out += "...";
    return out;
}

} // namespace

std::string_view to_string(session_state s) noexcept
{
    switch (s)
    {
    case session_state::idle: return "idle";
    case session_state::connecting: return "connecting";
    case session_state::connected: return "connected";
    case session_state::disconnecting: return "disconnecting";
    case session_state::closed: return "closed";
    case session_state::failed: return "failed";
    }
    return "unknown";
}

session::session(session_options options)
    : options_(std::move(options)),
      decoder_(options_.limits)
{
}

void session::require(session_state expected, std::string_view what) const
{
    if (state_ != expected)
        throw std::logic_error("stomp::session: " + std::string(what) + " in state " + std::string(to_string(state_)));
}

void session::connect()
{
    require(session_state::idle, "connect");
    frame f{.command = "CONNECT",
            .headers = {{"accept-version", "1.2"},
                        {"host", options_.host},
                        {"heart-beat", std::to_string(options_.heartbeat_send.count()) + "," +
                                           std::to_string(options_.heartbeat_receive.count())}},
            .body = {}};
    if (!options_.login.empty())
        f.headers.emplace_back("login", options_.login);
    if (!options_.passcode.empty())
        f.headers.emplace_back("passcode", options_.passcode);
    encode(f, output_);
    state_ = session_state::connecting;
}

void session::subscribe(std::string_view id, std::string_view destination, std::size_t prefetch,
                        const header_list& extra)
{
    require(session_state::connected, "subscribe");
    frame f{
        .command = "SUBSCRIBE",
        .headers = {{"id", std::string(id)}, {"destination", std::string(destination)}, {"ack", "client-individual"}},
        .body = {}};
    if (prefetch > 0)
        f.headers.emplace_back("prefetch-count", std::to_string(prefetch));
    f.headers.insert(f.headers.end(), extra.begin(), extra.end());
    encode(f, output_);
}

void session::unsubscribe(std::string_view id)
{
    require(session_state::connected, "unsubscribe");
    encode(frame{.command = "UNSUBSCRIBE", .headers = {{"id", std::string(id)}}, .body = {}}, output_);
    unsubscribed_.emplace_back(id);
}

void session::ack(std::string_view ack_id)
{
    if (state_ != session_state::connected && state_ != session_state::disconnecting)
        require(session_state::connected, "ack");
    encode("ACK", {{"id", ack_id}}, output_);
}

void session::nack(std::string_view ack_id, bool requeue)
{
    if (state_ != session_state::connected && state_ != session_state::disconnecting)
        require(session_state::connected, "nack");
    if (requeue)
        encode("NACK", {{"id", ack_id}}, output_);
    else
        encode("NACK", {{"id", ack_id}, {"requeue", "false"}}, output_);
}

std::uint64_t session::send(std::string_view destination, std::string body, header_list headers)
{
    require(session_state::connected, "send");
    const std::uint64_t receipt = next_receipt_++;
    std::erase_if(headers, [](const auto& h) {
        return h.first == "receipt" || h.first == "destination" || h.first == "content-length";
    });
    headers.emplace_back("destination", std::string(destination));
    headers.emplace_back("receipt", std::to_string(receipt));
    headers.emplace_back("content-length", std::to_string(body.size()));
    encode(frame{.command = "SEND", .headers = std::move(headers), .body = std::move(body)}, output_);
    return receipt;
}

void session::disconnect()
{
    require(session_state::connected, "disconnect");
    disconnect_receipt_ = next_receipt_++;
    encode(frame{.command = "DISCONNECT", .headers = {{"receipt", std::to_string(disconnect_receipt_)}}, .body = {}},
           output_);
    state_ = session_state::disconnecting;
}

void session::on_bytes(std::string_view bytes)
{
    if (state_ == session_state::failed || state_ == session_state::closed)
        return;
    try
    {
        decoder_.feed(bytes);
        for (;;)
        {
            auto r = decoder_.next(scratch_);
            if (r == decoder::result::need_more)
                break;
            if (r == decoder::result::frame)
            {
                handle(scratch_);
                if (state_ == session_state::failed || state_ == session_state::closed)
                    break;
            }
        }
    }
    catch (const courier::error& e)
    {
        fail(e);
    }
}

void session::fail(courier::error e, std::uint64_t receipt, bool late_delivery)
{
    state_ = session_state::failed;
    events_.emplace_back(error_event{std::move(e), receipt, late_delivery});
}

void session::handle(frame& f)
{
    auto unexpected = [&] {
        fail(error(errc::bad_response,
                   "unexpected STOMP " + f.command + " frame while " + std::string(to_string(state_))));
    };
    if (f.command == "ERROR")
    {
        error_context context;
        context.server_message = clip(f.header("message"));
        std::string detail = state_ == session_state::connecting ? "the STOMP broker refused the connection"
                                                                 : "the STOMP broker sent an ERROR frame";
        if (!f.body.empty())
            detail += ": " + clip(f.body);
        // RabbitMQ's STOMP adapter sends this for a delivery that was under way to a
        // subscription (consumer tag `T_<id>`) when its UNSUBSCRIBE arrived: it finds the tag
        // gone and reports it instead of requeueing. The delivery stays unacknowledged on the
        // connection until the connection closes, so failing the session (the driver then
        // reconnects) is what gives it back to the queue.
        bool late_delivery = false;
        if (f.header("message") == "Subscription not found")
            for (const auto& id : unsubscribed_)
                if (f.body.find("'T_" + id + "'") != std::string::npos)
                {
                    detail = "RabbitMQ had a delivery under way to subscription '" + id +
                             "' when it was unsubscribed, and could not hand it over ('" + clip(f.body) +
                             "'); the connection is reopened so that the broker requeues it";
                    late_delivery = true;
                    break;
                }
        std::uint64_t receipt = 0;
        auto id = f.header("receipt-id");
        std::from_chars(id.data(), id.data() + id.size(), receipt);
        fail(error(errc::server_error, std::move(detail), std::move(context)), receipt, late_delivery);
        return;
    }
    if (f.command == "CONNECTED")
    {
        if (state_ != session_state::connecting)
            return unexpected();
        if (f.header("version") != "1.2")
            return fail(error(errc::bad_response, "the STOMP broker does not speak version 1.2 (version '" +
                                                      clip(f.header("version"), 40) + "')"));
        connected_event e{.server = std::string(f.header("server")), .session = std::string(f.header("session"))};
        if (f.has_header("heart-beat"))
        {
            auto hb = parse_heartbeat(f.header("heart-beat"));
            if (!hb)
                return fail(error(errc::bad_response,
                                  "malformed STOMP heart-beat header '" + clip(f.header("heart-beat"), 40) + "'"));
            e.send_every = negotiate(static_cast<std::uint64_t>(options_.heartbeat_send.count()), hb->second);
            e.receive_every = negotiate(static_cast<std::uint64_t>(options_.heartbeat_receive.count()), hb->first);
        }
        state_ = session_state::connected;
        events_.emplace_back(std::move(e));
        return;
    }
    if (state_ != session_state::connected && state_ != session_state::disconnecting)
        return unexpected();
    if (f.command == "MESSAGE")
    {
        message_event m;
        m.subscription = f.header("subscription");
        m.redelivered = f.header("redelivered") == "true";
        m.ack_id = f.take_header("ack");
        if (m.subscription.empty() || f.header("message-id").empty() || m.ack_id.empty())
            return fail(error(errc::bad_response, "STOMP MESSAGE without a subscription, message-id or ack header"));
        m.f = std::move(f);
        events_.emplace_back(std::move(m));
        return;
    }
    if (f.command == "RECEIPT")
    {
        auto id = f.header("receipt-id");
        std::uint64_t receipt = 0;
        auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), receipt);
        if (id.empty() || ec != std::errc{} || p != id.data() + id.size() || receipt == 0 || receipt >= next_receipt_)
            return fail(
                error(errc::bad_response, "STOMP RECEIPT for a receipt never asked for ('" + clip(id, 40) + "')"));
        if (state_ == session_state::disconnecting && receipt == disconnect_receipt_)
        {
            state_ = session_state::closed;
            events_.emplace_back(disconnected_event{});
            return;
        }
        events_.emplace_back(receipt_event{receipt});
        return;
    }
    fail(error(errc::bad_response, "unknown STOMP server frame " + f.command));
}

std::optional<session_event> session::poll_event()
{
    return events_.poll();
}

} // namespace courier::stomp
