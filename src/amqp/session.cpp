// The AMQP 0-9-1 client state machine (see session.hpp).
#include "amqp/session.hpp"

#include <stdexcept>

namespace courier::amqp {
namespace {

template <class... F> struct overloaded : F...
{
    using F::operator()...;
};
// Clang 14 (the fuzz build) has no deduction for aggregates.
template <class... F> overloaded(F...) -> overloaded<F...>;

std::string text_property(const field_table& t, std::string_view name)
{
    if (const auto* v = t.find(name))
        if (const auto* s = std::get_if<std::string>(&v->value))
            return s->substr(0, 64);
    return {};
}

// The smaller of two limits, where 0 means "no limit" on either side.
template <class T> T negotiate(T ours, T theirs)
{
    if (ours == 0 || theirs == 0)
        return ours == 0 ? theirs : ours;
    return std::min(ours, theirs);
}

} // namespace

courier::error close_error(const method::close& c, bool connection)
{
    error_context context;
    context.server_code = std::to_string(c.reply_code);
    context.server_message = c.reply_text;
    if (c.class_id != 0)
        context.action = method_name(c.class_id, c.method_id);
    errc code = errc::server_error;
    if (connection && c.reply_code == 403)
        code = errc::no_credentials;
    else if (connection && c.reply_code == reply_code::connection_forced)
        code = errc::transport_failed;
    else if (!connection && c.reply_code == reply_code::not_found)
        code = errc::not_found; // a queue or exchange that does not exist
    else if (!connection && c.reply_code == 403)
        code = errc::access_denied; // ACCESS_REFUSED: the user may not use it
    return courier::error(code,
                          connection ? "the AMQP broker closed the connection" : "the AMQP broker closed the channel",
                          std::move(context));
}

session::session(session_options options)
    : options_(std::move(options)),
      decoder_(options_.frame_max),
      frame_max_(options_.frame_max),
      channel_max_(options_.channel_max)
{
}

void session::start()
{
    if (state_ != session_state::idle)
        throw std::logic_error("amqp::session: start twice");
    output_.append(protocol_header);
    state_ = session_state::handshake;
}

void session::close()
{
    if (state_ != session_state::open)
        throw std::logic_error("amqp::session: close when not open");
    write_acks(); // before the close: the broker ignores what follows it
    send_connection_close(output_, reply_code::success, "courier closing");
    state_ = session_state::closing;
}

session::channel_state& session::require_open(std::uint16_t channel, const char* what)
{
    auto it = channels_.find(channel);
    if (state_ != session_state::open || it == channels_.end() || !it->second.open || it->second.closing)
        throw std::logic_error(std::string("amqp::session: ") + what + " on channel " + std::to_string(channel) +
                               ", which is not open");
    return it->second;
}

bool session::channel_open(std::uint16_t channel) const noexcept
{
    auto it = channels_.find(channel);
    return it != channels_.end() && it->second.open && !it->second.closing;
}

void session::open_channel(std::uint16_t channel)
{
    if (state_ != session_state::open || channel == 0 || channel > channel_max_ || channels_.count(channel))
        throw std::logic_error("amqp::session: cannot open channel " + std::to_string(channel));
    channels_.emplace(channel, channel_state{});
    send_channel_open(output_, channel);
}

void session::close_channel(std::uint16_t channel)
{
    auto& c = require_open(channel, "close_channel");
    write_acks(channel, c); // before the close: the broker ignores what follows it
    c.closing = true;
    send_channel_close(output_, channel, reply_code::success, "courier closing");
}

void session::declare_exchange(std::uint16_t channel, const exchange_declare_args& a)
{
    require_open(channel, "declare_exchange");
    send_exchange_declare(output_, channel, a);
}

void session::declare_queue(std::uint16_t channel, const queue_declare_args& a)
{
    require_open(channel, "declare_queue");
    send_queue_declare(output_, channel, a);
}

void session::bind_queue(std::uint16_t channel, std::string_view queue, std::string_view exchange,
                         std::string_view routing_key, const field_table& arguments)
{
    require_open(channel, "bind_queue");
    send_queue_bind(output_, channel, queue, exchange, routing_key, arguments);
}

void session::qos(std::uint16_t channel, std::uint16_t prefetch_count)
{
    require_open(channel, "qos");
    send_basic_qos(output_, channel, prefetch_count);
}

void session::consume(std::uint16_t channel, std::string_view queue, std::string_view consumer_tag,
                      const field_table& arguments)
{
    require_open(channel, "consume");
    send_basic_consume(output_, channel, queue, consumer_tag, false, false, arguments);
}

void session::cancel(std::uint16_t channel, std::string_view consumer_tag)
{
    require_open(channel, "cancel");
    send_basic_cancel(output_, channel, consumer_tag);
}

void session::ack(std::uint16_t channel, std::uint64_t delivery_tag)
{
    require_open(channel, "ack").acks_to_write.push_back(delivery_tag);
}

void session::write_acks()
{
    if (state_ != session_state::open)
        return; // closing or failed: nothing more reaches the broker
    for (auto& [ch, c] : channels_)
        if (!c.acks_to_write.empty())
            write_acks(ch, c);
}

void session::write_acks(std::uint16_t ch, channel_state& c)
{
    const auto before = c.unsettled_from;
    for (const auto tag : c.acks_to_write)
        settle(c, tag, tag);
    // Every tag below `unsettled_from` is settled now: those acked here go in one frame, a
    // `multiple` ack of the highest of them (which leaves alone what an earlier frame settled
    // already; RabbitMQ closes the channel if the tag itself is not outstanding). The others,
    // past a delivery still in the route's hands, go one by one.
    std::uint64_t highest_covered = 0;
    for (const auto tag : c.acks_to_write)
    {
        if (c.tracking && tag < c.unsettled_from)
        {
            if (tag >= before)
                highest_covered = std::max(highest_covered, tag);
        }
        else
            send_basic_ack(output_, ch, tag, false);
    }
    if (highest_covered != 0)
        send_basic_ack(output_, ch, highest_covered, true);
    c.acks_to_write.clear();
}

void session::settle(channel_state& c, std::uint64_t first, std::uint64_t last)
{
    if (!c.tracking || last < c.unsettled_from)
        return;
    first = std::max(first, c.unsettled_from);
    if (last - c.unsettled_from >= channel_state::max_settled_ahead)
    {
        c.tracking = false;
        c.settled_ahead.clear();
        return;
    }
    const auto end = static_cast<std::size_t>(last - c.unsettled_from + 1);
    if (c.settled_ahead.size() < end)
        c.settled_ahead.resize(end, false);
    for (auto i = static_cast<std::size_t>(first - c.unsettled_from); i < end; ++i)
        c.settled_ahead[i] = true;
    while (!c.settled_ahead.empty() && c.settled_ahead.front())
    {
        c.settled_ahead.pop_front();
        ++c.unsettled_from;
    }
}

void session::nack(std::uint16_t channel, std::uint64_t delivery_tag, bool multiple, bool requeue)
{
    auto& c = require_open(channel, "nack");
    write_acks(channel, c);
    settle(c, multiple ? c.unsettled_from : delivery_tag, delivery_tag);
    send_basic_nack(output_, channel, delivery_tag, multiple, requeue);
}

void session::reject(std::uint16_t channel, std::uint64_t delivery_tag, bool requeue)
{
    auto& c = require_open(channel, "reject");
    write_acks(channel, c);
    settle(c, delivery_tag, delivery_tag);
    send_basic_reject(output_, channel, delivery_tag, requeue);
}

void session::confirm_select(std::uint16_t channel)
{
    auto& c = require_open(channel, "confirm_select");
    if (!c.confirming)
    {
        c.confirming = true;
        c.next_sequence = 1;
    }
    send_confirm_select(output_, channel);
}

std::uint64_t session::publish(std::uint16_t channel, std::string_view exchange, std::string_view routing_key,
                               bool mandatory, const properties& props, std::string_view body)
{
    auto& c = require_open(channel, "publish");
    send_basic_publish(output_, channel, exchange, routing_key, mandatory, props, body, frame_max_);
    if (!c.confirming)
        return 0;
    c.unconfirmed.insert(c.next_sequence);
    return c.next_sequence++;
}

void session::on_bytes(std::string_view bytes)
{
    if (state_ == session_state::failed || state_ == session_state::closed || state_ == session_state::idle)
        return;
    try
    {
        decoder_.feed(bytes);
        while (state_ != session_state::failed && state_ != session_state::closed)
        {
            auto f = decoder_.next();
            if (!f)
                break;
            handle(*f);
        }
    }
    catch (const courier::error& e)
    {
        // A malformed frame: RabbitMQ's code for it is 501 FRAME_ERROR (502 for a bad
        // method argument; the broker does not care which when it is the one at fault).
        protocol_fault(reply_code::frame_error, e.detail());
    }
}

void session::protocol_fault(std::uint16_t code, const std::string& text)
{
    if (state_ == session_state::failed)
        return;
    if (state_ == session_state::open || state_ == session_state::handshake)
        send_connection_close(output_, code, text);
    fail(courier::error(errc::bad_response, text));
}

void session::fail(courier::error e)
{
    state_ = session_state::failed;
    events_.emplace_back(error_event{std::move(e)});
}

void session::handle(const frame_view& f)
{
    if (f.type == frame_type::heartbeat)
        return; // the driver counts every byte read as a sign of life
    if (f.channel == 0)
    {
        if (f.type != frame_type::method)
            return protocol_fault(reply_code::command_invalid, "content frame on channel 0");
        return handle_connection_method(decode_method(f.payload));
    }
    auto it = channels_.find(f.channel);
    if (state_ != session_state::open && state_ != session_state::closing)
        return protocol_fault(reply_code::channel_error, "channel frame before the connection is open");
    if (it == channels_.end())
        return protocol_fault(reply_code::channel_error,
                              "frame for channel " + std::to_string(f.channel) + ", which is not open");
    channel_state& c = it->second;
    if (c.pending || f.type != frame_type::method)
        return handle_content(f.channel, c, f);
    handle_channel_method(f.channel, c, decode_method(f.payload));
}

void session::handle_connection_method(server_method&& m)
{
    std::visit(overloaded{
                   [&](method::connection_start& s) {
                       if (state_ != session_state::handshake)
                           return protocol_fault(reply_code::command_invalid, "connection.start after the handshake");
                       if (s.version_major != 0 || s.version_minor != 9)
                           return fail(courier::error(errc::bad_response, "the broker speaks AMQP " +
                                                                              std::to_string(s.version_major) + "-" +
                                                                              std::to_string(s.version_minor)));
                       if (s.mechanisms.find("PLAIN") == std::string::npos)
                           return fail(courier::error(errc::no_credentials,
                                                      "the AMQP broker does not offer SASL PLAIN (offers: " +
                                                          s.mechanisms.substr(0, 100) + ")"));
                       server_product_ = text_property(s.server_properties, "product");
                       server_version_ = text_property(s.server_properties, "version");
                       field_table capabilities;
                       for (const char* name : {"publisher_confirms", "consumer_cancel_notify", "basic.nack",
                                                "connection.blocked", "authentication_failure_close"})
                           capabilities.set(name, true);
                       field_table client;
                       client.set("product", std::string("courier"));
                       client.set("platform", std::string("C++20"));
                       client.set("capabilities", std::move(capabilities));
                       if (!options_.connection_name.empty())
                           client.set("connection_name", options_.connection_name);
                       std::string response;
                       response.append(1, '\0').append(options_.login).append(1, '\0').append(options_.passcode);
                       send_start_ok(output_, client, "PLAIN", response, "en_US");
                   },
                   [&](method::connection_tune& t) {
                       if (state_ != session_state::handshake)
                           return protocol_fault(reply_code::command_invalid, "connection.tune after the handshake");
                       channel_max_ = negotiate(options_.channel_max, t.channel_max);
                       frame_max_ = negotiate(options_.frame_max, t.frame_max);
                       if (frame_max_ < 4096)
                           return protocol_fault(reply_code::syntax_error, "frame_max below 4096");
                       heartbeat_ = std::chrono::seconds(
                           negotiate(static_cast<std::uint16_t>(options_.heartbeat.count()), t.heartbeat));
                       decoder_.set_max_frame_size(frame_max_);
                       send_tune_ok(output_, channel_max_, frame_max_, static_cast<std::uint16_t>(heartbeat_.count()));
                       send_connection_open(output_, options_.virtual_host);
                   },
                   [&](method::connection_open_ok&) {
                       if (state_ != session_state::handshake)
                           return protocol_fault(reply_code::command_invalid, "connection.open-ok after the handshake");
                       state_ = session_state::open;
                       events_.emplace_back(
                           opened_event{heartbeat_, frame_max_, channel_max_, server_product_, server_version_});
                   },
                   [&](method::connection_close& c) {
                       send_connection_close_ok(output_);
                       fail(close_error(c, true));
                   },
                   [&](method::connection_close_ok&) {
                       if (state_ != session_state::closing)
                           return protocol_fault(reply_code::command_invalid, "connection.close-ok without a close");
                       state_ = session_state::closed;
                       events_.emplace_back(closed_event{});
                   },
                   [&](method::connection_blocked& b) { events_.emplace_back(blocked_event{std::move(b.reason)}); },
                   [&](method::connection_unblocked&) { events_.emplace_back(unblocked_event{}); },
                   [&](auto&) { protocol_fault(reply_code::command_invalid, "a channel method on channel 0"); },
               },
               m);
}

void session::handle_channel_method(std::uint16_t ch, channel_state& c, server_method&& m)
{
    std::visit(overloaded{
                   [&](method::channel_open_ok&) {
                       c.open = true;
                       events_.emplace_back(channel_opened_event{ch});
                   },
                   [&](method::channel_close& close) {
                       send_channel_close_ok(output_, ch);
                       auto e = close_error(close, false);
                       channels_.erase(ch);
                       events_.emplace_back(channel_closed_event{ch, std::move(e)});
                   },
                   [&](method::channel_close_ok&) {
                       channels_.erase(ch);
                       events_.emplace_back(channel_closed_event{ch, std::nullopt});
                   },
                   [&](method::channel_flow& f) { send_channel_flow_ok(output_, ch, f.active); },
                   [&](method::basic_deliver& d) {
                       c.pending = content{std::move(d), false, 0, {}, {}};
                   },
                   [&](method::basic_return& r) {
                       c.pending = content{std::move(r), false, 0, {}, {}};
                   },
                   [&](method::basic_ack& a) { confirm(ch, c, a.delivery_tag, a.multiple, true); },
                   [&](method::basic_nack& n) { confirm(ch, c, n.delivery_tag, n.multiple, false); },
                   [&](method::basic_cancel& b) {
                       if (!b.no_wait)
                           send_basic_cancel_ok(output_, ch, b.consumer_tag);
                       events_.emplace_back(consumer_cancelled_event{ch, std::move(b.consumer_tag)});
                   },
                   [&](method::connection_start&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_tune&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_open_ok&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_close&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_close_ok&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_blocked&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](method::connection_unblocked&) {
                       protocol_fault(reply_code::command_invalid, "a connection method on a channel");
                   },
                   [&](auto& ok) {
                       if (!c.open)
                           return protocol_fault(reply_code::channel_error, "method before channel.open-ok");
                       events_.emplace_back(method_ok_event{ch, std::move(ok)});
                   },
               },
               m);
}

void session::handle_content(std::uint16_t ch, channel_state& c, const frame_view& f)
{
    if (!c.pending)
        return protocol_fault(reply_code::unexpected_frame, "content frame without basic.deliver or basic.return");
    content& p = *c.pending;
    if (f.type == frame_type::method)
        return protocol_fault(reply_code::unexpected_frame, "method frame in the middle of a message's content");
    if (!p.have_header)
    {
        if (f.type != frame_type::header)
            return protocol_fault(reply_code::unexpected_frame, "body frame before the content header");
        auto h = decode_content_header(f.payload);
        if (h.class_id != 60)
            return protocol_fault(reply_code::unexpected_frame,
                                  "content header of class " + std::to_string(h.class_id));
        p.have_header = true;
        p.body_size = h.body_size;
        p.props = std::move(h.props);
        // No reserve from the announced size: the broker could announce anything.
    }
    else
    {
        if (f.type != frame_type::body)
            return protocol_fault(reply_code::unexpected_frame, "second content header for one message");
        if (p.body.size() + f.payload.size() > p.body_size)
            return protocol_fault(reply_code::frame_error, "message body longer than its content header says");
        p.body.append(f.payload);
    }
    if (p.body.size() < p.body_size)
        return;
    if (auto* d = std::get_if<method::basic_deliver>(&p.method))
        events_.emplace_back(delivery_event{ch, std::move(*d), std::move(p.props), std::move(p.body)});
    else
        events_.emplace_back(return_event{ch, std::get<method::basic_return>(std::move(p.method)), std::move(p.props),
                                          std::move(p.body)});
    c.pending.reset();
}

void session::confirm(std::uint16_t ch, channel_state& c, std::uint64_t tag, bool multiple, bool ack)
{
    if (!c.confirming)
        return protocol_fault(reply_code::command_invalid, "publisher confirm on a channel not in confirm mode");
    if (multiple)
    {
        auto end = c.unconfirmed.upper_bound(tag);
        for (auto it = c.unconfirmed.begin(); it != end; ++it)
            events_.emplace_back(confirm_event{ch, *it, ack});
        c.unconfirmed.erase(c.unconfirmed.begin(), end);
    }
    else if (c.unconfirmed.erase(tag) == 1)
        events_.emplace_back(confirm_event{ch, tag, ack});
    // A confirm for an unknown tag (already confirmed by a `multiple` one) changes nothing.
}

std::optional<session_event> session::poll_event()
{
    return events_.poll();
}

} // namespace courier::amqp
