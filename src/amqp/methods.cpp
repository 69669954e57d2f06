// AMQP 0-9-1 method and content header encoding and decoding (see methods.hpp).
#include "amqp/methods.hpp"

#include "amqp/frame.hpp"
#include "courier/error.hpp"

#include <algorithm>

namespace courier::amqp {
namespace {

constexpr std::uint16_t basic_class = 60;

// Appends a method frame: ids, then whatever `args` writes.
template <class Args>
void method_frame(std::string& out, std::uint16_t channel, std::uint16_t class_id, std::uint16_t method_id, Args&& args)
{
    const std::size_t start = begin_frame(out, frame_type::method, channel);
    put_u16(out, class_id);
    put_u16(out, method_id);
    args(out);
    end_frame(out, start);
}

std::uint8_t bits(std::initializer_list<bool> flags)
{
    std::uint8_t v = 0;
    int i = 0;
    for (bool f : flags)
        v = static_cast<std::uint8_t>(v | (f ? 1u << i : 0u)), ++i;
    return v;
}

template <class T> T read_close(reader& r)
{
    T c;
    c.reply_code = r.u16("close.reply-code");
    c.reply_text = r.shortstr("close.reply-text");
    c.class_id = r.u16("close.class-id");
    c.method_id = r.u16("close.method-id");
    return c;
}

} // namespace

std::string method_name(std::uint16_t class_id, std::uint16_t method_id)
{
    struct entry
    {
        std::uint16_t c, m;
        const char* name;
    };
    static constexpr entry names[] = {
        {10, 10, "connection.start"},     {10, 11, "connection.start-ok"}, {10, 30, "connection.tune"},
        {10, 31, "connection.tune-ok"},   {10, 40, "connection.open"},     {10, 41, "connection.open-ok"},
        {10, 50, "connection.close"},     {10, 51, "connection.close-ok"}, {10, 60, "connection.blocked"},
        {10, 61, "connection.unblocked"}, {20, 10, "channel.open"},        {20, 11, "channel.open-ok"},
        {20, 20, "channel.flow"},         {20, 21, "channel.flow-ok"},     {20, 40, "channel.close"},
        {20, 41, "channel.close-ok"},     {40, 10, "exchange.declare"},    {40, 11, "exchange.declare-ok"},
        {50, 10, "queue.declare"},        {50, 11, "queue.declare-ok"},    {50, 20, "queue.bind"},
        {50, 21, "queue.bind-ok"},        {60, 10, "basic.qos"},           {60, 11, "basic.qos-ok"},
        {60, 20, "basic.consume"},        {60, 21, "basic.consume-ok"},    {60, 30, "basic.cancel"},
        {60, 31, "basic.cancel-ok"},      {60, 40, "basic.publish"},       {60, 50, "basic.return"},
        {60, 60, "basic.deliver"},        {60, 80, "basic.ack"},           {60, 90, "basic.reject"},
        {60, 120, "basic.nack"},          {85, 10, "confirm.select"},      {85, 11, "confirm.select-ok"},
    };
    for (const auto& e : names)
        if (e.c == class_id && e.m == method_id)
            return e.name;
    return std::to_string(class_id) + "/" + std::to_string(method_id);
}

server_method decode_method(std::string_view payload)
{
    reader r(payload);
    const std::uint16_t c = r.u16("a method id");
    const std::uint16_t m = r.u16("a method id");
    switch (c << 16 | m)
    {
    case 10 << 16 | 10:
    {
        method::connection_start s;
        s.version_major = r.u8("connection.start");
        s.version_minor = r.u8("connection.start");
        s.server_properties = r.table("connection.start.server-properties");
        s.mechanisms = r.longstr("connection.start.mechanisms");
        s.locales = r.longstr("connection.start.locales");
        return s;
    }
    case 10 << 16 | 30:
    {
        method::connection_tune t;
        t.channel_max = r.u16("connection.tune");
        t.frame_max = r.u32("connection.tune");
        t.heartbeat = r.u16("connection.tune");
        return t;
    }
    case 10 << 16 | 41: return method::connection_open_ok{};
    case 10 << 16 | 50: return read_close<method::connection_close>(r);
    case 10 << 16 | 51: return method::connection_close_ok{};
    case 10 << 16 | 60: return method::connection_blocked{r.shortstr("connection.blocked.reason")};
    case 10 << 16 | 61: return method::connection_unblocked{};
    case 20 << 16 | 11: return method::channel_open_ok{};
    case 20 << 16 | 20: return method::channel_flow{(r.u8("channel.flow") & 1) != 0};
    case 20 << 16 | 40: return read_close<method::channel_close>(r);
    case 20 << 16 | 41: return method::channel_close_ok{};
    case 40 << 16 | 11: return method::exchange_declare_ok{};
    case 50 << 16 | 11:
    {
        method::queue_declare_ok q;
        q.queue = r.shortstr("queue.declare-ok.queue");
        q.message_count = r.u32("queue.declare-ok.message-count");
        q.consumer_count = r.u32("queue.declare-ok.consumer-count");
        return q;
    }
    case 50 << 16 | 21: return method::queue_bind_ok{};
    case 60 << 16 | 11: return method::basic_qos_ok{};
    case 60 << 16 | 21: return method::basic_consume_ok{r.shortstr("basic.consume-ok.consumer-tag")};
    case 60 << 16 | 30:
    {
        method::basic_cancel b;
        b.consumer_tag = r.shortstr("basic.cancel.consumer-tag");
        b.no_wait = r.remaining() > 0 && (r.u8("basic.cancel.no-wait") & 1) != 0;
        return b;
    }
    case 60 << 16 | 31: return method::basic_cancel_ok{r.shortstr("basic.cancel-ok.consumer-tag")};
    case 60 << 16 | 50:
    {
        method::basic_return b;
        b.reply_code = r.u16("basic.return.reply-code");
        b.reply_text = r.shortstr("basic.return.reply-text");
        b.exchange = r.shortstr("basic.return.exchange");
        b.routing_key = r.shortstr("basic.return.routing-key");
        return b;
    }
    case 60 << 16 | 60:
    {
        method::basic_deliver d;
        d.consumer_tag = r.shortstr("basic.deliver.consumer-tag");
        d.delivery_tag = r.u64("basic.deliver.delivery-tag");
        d.redelivered = (r.u8("basic.deliver.redelivered") & 1) != 0;
        d.exchange = r.shortstr("basic.deliver.exchange");
        d.routing_key = r.shortstr("basic.deliver.routing-key");
        return d;
    }
    case 60 << 16 | 80:
    {
        method::basic_ack a;
        a.delivery_tag = r.u64("basic.ack.delivery-tag");
        a.multiple = (r.u8("basic.ack.multiple") & 1) != 0;
        return a;
    }
    case 60 << 16 | 120:
    {
        method::basic_nack n;
        n.delivery_tag = r.u64("basic.nack.delivery-tag");
        const auto flags = r.u8("basic.nack.flags");
        n.multiple = (flags & 1) != 0;
        n.requeue = (flags & 2) != 0;
        return n;
    }
    case 85 << 16 | 11: return method::confirm_select_ok{};
    default: throw error(errc::bad_response, "unexpected AMQP method " + method_name(c, m) + " from the server");
    }
}

content_header decode_content_header(std::string_view payload)
{
    reader r(payload);
    content_header h;
    h.class_id = r.u16("a content header");
    r.u16("a content header"); // weight, unused
    h.body_size = r.u64("a content header");
    std::uint16_t flags = r.u16("the property flags");
    // Bit 0 says another flags word follows; no property of basic lives there, so any bit
    // set in one is a property this client cannot skip.
    for (std::uint16_t more = flags; (more & 1) != 0;)
    {
        more = r.u16("the property flags");
        if ((more & 0xfffe) != 0)
            throw error(errc::bad_response, "AMQP content header with unknown properties");
    }
    auto& p = h.props;
    auto has = [&](int bit) { return (flags & (1u << bit)) != 0; };
    if (has(15))
        p.content_type = r.shortstr("content-type");
    if (has(14))
        p.content_encoding = r.shortstr("content-encoding");
    if (has(13))
        p.headers = r.table("headers");
    if (has(12))
        p.delivery_mode = r.u8("delivery-mode");
    if (has(11))
        p.priority = r.u8("priority");
    if (has(10))
        p.correlation_id = r.shortstr("correlation-id");
    if (has(9))
        p.reply_to = r.shortstr("reply-to");
    if (has(8))
        p.expiration = r.shortstr("expiration");
    if (has(7))
        p.message_id = r.shortstr("message-id");
    if (has(6))
        p.timestamp = r.u64("timestamp");
    if (has(5))
        p.type = r.shortstr("type");
    if (has(4))
        p.user_id = r.shortstr("user-id");
    if (has(3))
        p.app_id = r.shortstr("app-id");
    if (has(2))
        p.cluster_id = r.shortstr("cluster-id");
    return h;
}

void send_start_ok(std::string& out, const field_table& client_properties, std::string_view mechanism,
                   std::string_view response, std::string_view locale)
{
    method_frame(out, 0, 10, 11, [&](std::string& o) {
        put_table(o, client_properties);
        put_shortstr(o, mechanism, "mechanism");
        put_longstr(o, response);
        put_shortstr(o, locale, "locale");
    });
}

void send_tune_ok(std::string& out, std::uint16_t channel_max, std::uint32_t frame_max, std::uint16_t heartbeat)
{
    method_frame(out, 0, 10, 31, [&](std::string& o) {
        put_u16(o, channel_max);
        put_u32(o, frame_max);
        put_u16(o, heartbeat);
    });
}

void send_connection_open(std::string& out, std::string_view virtual_host)
{
    method_frame(out, 0, 10, 40, [&](std::string& o) {
        put_shortstr(o, virtual_host, "virtual host name");
        put_shortstr(o, "");
        put_u8(o, 0);
    });
}

void send_connection_close(std::string& out, std::uint16_t code, std::string_view text, std::uint16_t class_id,
                           std::uint16_t method_id)
{
    method_frame(out, 0, 10, 50, [&](std::string& o) {
        put_u16(o, code);
        put_shortstr(o, text.substr(0, 255));
        put_u16(o, class_id);
        put_u16(o, method_id);
    });
}

void send_connection_close_ok(std::string& out)
{
    method_frame(out, 0, 10, 51, [](std::string&) {});
}

void send_channel_open(std::string& out, std::uint16_t channel)
{
    method_frame(out, channel, 20, 10, [](std::string& o) { put_shortstr(o, ""); });
}

void send_channel_flow_ok(std::string& out, std::uint16_t channel, bool active)
{
    method_frame(out, channel, 20, 21, [&](std::string& o) { put_u8(o, active ? 1 : 0); });
}

void send_channel_close(std::string& out, std::uint16_t channel, std::uint16_t code, std::string_view text,
                        std::uint16_t class_id, std::uint16_t method_id)
{
    method_frame(out, channel, 20, 40, [&](std::string& o) {
        put_u16(o, code);
        put_shortstr(o, text.substr(0, 255));
        put_u16(o, class_id);
        put_u16(o, method_id);
    });
}

void send_channel_close_ok(std::string& out, std::uint16_t channel)
{
    method_frame(out, channel, 20, 41, [](std::string&) {});
}

void send_exchange_declare(std::string& out, std::uint16_t channel, const exchange_declare_args& a)
{
    method_frame(out, channel, 40, 10, [&](std::string& o) {
        put_u16(o, 0);
        put_shortstr(o, a.exchange, "exchange name");
        put_shortstr(o, a.type, "exchange type");
        put_u8(o, bits({a.passive, a.durable, a.auto_delete, a.internal, false}));
        put_table(o, a.arguments);
    });
}

void send_queue_declare(std::string& out, std::uint16_t channel, const queue_declare_args& a)
{
    method_frame(out, channel, 50, 10, [&](std::string& o) {
        put_u16(o, 0);
        put_shortstr(o, a.queue, "queue name");
        put_u8(o, bits({a.passive, a.durable, a.exclusive, a.auto_delete, false}));
        put_table(o, a.arguments);
    });
}

void send_queue_bind(std::string& out, std::uint16_t channel, std::string_view queue, std::string_view exchange,
                     std::string_view routing_key, const field_table& arguments)
{
    method_frame(out, channel, 50, 20, [&](std::string& o) {
        put_u16(o, 0);
        put_shortstr(o, queue, "queue name");
        put_shortstr(o, exchange, "exchange name");
        put_shortstr(o, routing_key, "routing key");
        put_u8(o, 0);
        put_table(o, arguments);
    });
}

void send_basic_qos(std::string& out, std::uint16_t channel, std::uint16_t prefetch_count, bool global)
{
    method_frame(out, channel, basic_class, 10, [&](std::string& o) {
        put_u32(o, 0);
        put_u16(o, prefetch_count);
        put_u8(o, global ? 1 : 0);
    });
}

void send_basic_consume(std::string& out, std::uint16_t channel, std::string_view queue, std::string_view consumer_tag,
                        bool no_ack, bool exclusive, const field_table& arguments)
{
    method_frame(out, channel, basic_class, 20, [&](std::string& o) {
        put_u16(o, 0);
        put_shortstr(o, queue, "queue name");
        put_shortstr(o, consumer_tag, "consumer tag");
        put_u8(o, bits({false, no_ack, exclusive, false}));
        put_table(o, arguments);
    });
}

void send_basic_cancel(std::string& out, std::uint16_t channel, std::string_view consumer_tag)
{
    method_frame(out, channel, basic_class, 30, [&](std::string& o) {
        put_shortstr(o, consumer_tag, "consumer tag");
        put_u8(o, 0);
    });
}

void send_basic_cancel_ok(std::string& out, std::uint16_t channel, std::string_view consumer_tag)
{
    method_frame(out, channel, basic_class, 31, [&](std::string& o) { put_shortstr(o, consumer_tag, "consumer tag"); });
}

void send_basic_ack(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool multiple)
{
    method_frame(out, channel, basic_class, 80, [&](std::string& o) {
        put_u64(o, delivery_tag);
        put_u8(o, multiple ? 1 : 0);
    });
}

void send_basic_nack(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool multiple, bool requeue)
{
    method_frame(out, channel, basic_class, 120, [&](std::string& o) {
        put_u64(o, delivery_tag);
        put_u8(o, bits({multiple, requeue}));
    });
}

void send_basic_reject(std::string& out, std::uint16_t channel, std::uint64_t delivery_tag, bool requeue)
{
    method_frame(out, channel, basic_class, 90, [&](std::string& o) {
        put_u64(o, delivery_tag);
        put_u8(o, requeue ? 1 : 0);
    });
}

void send_confirm_select(std::string& out, std::uint16_t channel)
{
    method_frame(out, channel, 85, 10, [](std::string& o) { put_u8(o, 0); });
}

void send_basic_publish(std::string& out, std::uint16_t channel, std::string_view exchange,
                        std::string_view routing_key, bool mandatory, const properties& p, std::string_view body,
                        std::uint32_t frame_max)
{
    method_frame(out, channel, basic_class, 40, [&](std::string& o) {
        put_u16(o, 0);
        put_shortstr(o, exchange, "exchange name");
        put_shortstr(o, routing_key, "routing key");
        put_u8(o, bits({mandatory, false}));
    });

    const std::size_t header = begin_frame(out, frame_type::header, channel);
    put_u16(out, basic_class);
    put_u16(out, 0);
    put_u64(out, body.size());
    std::uint16_t flags = 0;
    auto flag = [&](bool present, int bit) { flags = static_cast<std::uint16_t>(flags | (present ? 1u << bit : 0u)); };
    flag(p.content_type.has_value(), 15);
    flag(p.content_encoding.has_value(), 14);
    flag(p.headers.has_value(), 13);
    flag(p.delivery_mode.has_value(), 12);
    flag(p.priority.has_value(), 11);
    flag(p.correlation_id.has_value(), 10);
    flag(p.reply_to.has_value(), 9);
    flag(p.expiration.has_value(), 8);
    flag(p.message_id.has_value(), 7);
    flag(p.timestamp.has_value(), 6);
    flag(p.type.has_value(), 5);
    flag(p.user_id.has_value(), 4);
    flag(p.app_id.has_value(), 3);
    flag(p.cluster_id.has_value(), 2);
    put_u16(out, flags);
    if (p.content_type)
        put_shortstr(out, *p.content_type, "content-type");
    if (p.content_encoding)
        put_shortstr(out, *p.content_encoding, "content-encoding");
    if (p.headers)
        put_table(out, *p.headers);
    if (p.delivery_mode)
        put_u8(out, *p.delivery_mode);
    if (p.priority)
        put_u8(out, *p.priority);
    if (p.correlation_id)
        put_shortstr(out, *p.correlation_id, "correlation-id");
    if (p.reply_to)
        put_shortstr(out, *p.reply_to, "reply-to");
    if (p.expiration)
        put_shortstr(out, *p.expiration, "expiration");
    if (p.message_id)
        put_shortstr(out, *p.message_id, "message-id");
    if (p.timestamp)
        put_u64(out, *p.timestamp);
    if (p.type)
        put_shortstr(out, *p.type, "type");
    if (p.user_id)
        put_shortstr(out, *p.user_id, "user-id");
    if (p.app_id)
        put_shortstr(out, *p.app_id, "app-id");
    if (p.cluster_id)
        put_shortstr(out, *p.cluster_id, "cluster-id");
    end_frame(out, header);

    const std::size_t chunk = frame_max > frame_overhead ? frame_max - frame_overhead : body.size();
    for (std::size_t at = 0; at < body.size(); at += chunk)
    {
        const std::size_t start = begin_frame(out, frame_type::body, channel);
        out.append(body.substr(at, std::max<std::size_t>(chunk, 1)));
        end_frame(out, start);
    }
}

} // namespace courier::amqp
