// Envelope pipelines: interceptors on both sides of an event's trip (eventing's
// EnvelopePipeline).
//
// - Sending, a pipeline sees the envelope (the encoded body and its headers, which it may
//   read and set) and the event's descriptor.
// - Handling, it sees the envelope and the listener about to run. It may reject the message
//   by throwing (the listener counts as failed, and the route's error handler decides), and
//   may hand values to the listener through the context (`context::values()`).
//
// Headers are message attributes: on SQS and SNS they travel as MessageAttributes (at most 10
// per message, which the SQS and SNS clients enforce with a clear error), on the memory queue
// as its attributes, on STOMP and AMQP as native headers.
//
// Pipelines run in the order they were added to the bus or the router, on both sides. They
// are synchronous and must not block: do I/O in a listener.
#ifndef COURIER_EVENTS_PIPELINE_HPP
#define COURIER_EVENTS_PIPELINE_HPP

#include <courier/context.hpp>
#include <courier/events/event.hpp>
#include <courier/message.hpp>

#include <string>
#include <string_view>

namespace courier {

/// An event on its way out: its encoded body and its headers.
class outgoing_envelope
{
public:
    outgoing_envelope(std::string_view body, attribute_map& headers) noexcept
        : body_(body),
          headers_(headers)
    {
    }

    std::string_view body() const noexcept { return body_; }
    /// The header's value, or null.
    const std::string* header(std::string_view key) const
    {
        const auto it = headers_.find(key);
        return it == headers_.end() ? nullptr : &it->second.value;
    }
    /// Sets a String header, replacing one of that name.
    void set_header(std::string key, std::string value)
    {
        headers_.insert_or_assign(std::move(key), attribute{"String", std::move(value)});
    }
    attribute_map& headers() noexcept { return headers_; }

private:
    std::string_view body_;
    attribute_map& headers_;
};

/// An event as delivered: its message, read-only.
class incoming_envelope
{
public:
    explicit incoming_envelope(const message& msg) noexcept
        : msg_(msg)
    {
    }

    std::string_view body() const noexcept { return msg_.body; }
    /// The header's value, or null.
    const std::string* header(std::string_view key) const
    {
        const auto it = msg_.attributes.find(key);
        return it == msg_.attributes.end() ? nullptr : &it->second.value;
    }
    const attribute_map& headers() const noexcept { return msg_.attributes; }
    const message& raw() const noexcept { return msg_; }

private:
    const message& msg_;
};

/// Who is about to handle an event.
struct listener_descriptor
{
    std::string_view route;
    /// The listener's name (a catch-all subscriber's too).
    std::string_view listener;
    const event_descriptor& event;
};

/// An interceptor of events sent and handled. Override what you need; the defaults do
/// nothing.
///
/// Thread safety: `on_send` runs on whatever thread sends, `on_handle` on the routes'
/// executors; a pipeline shared by several must be safe for that.
class envelope_pipeline
{
public:
    virtual ~envelope_pipeline() = default;

    /// Before an event is published. `cause` is the context of the message being handled
    /// when the event is sent from a listener (`event_bus::send(event, ctx)`), else null.
    /// Throwing refuses the send: `event_bus::send` throws it.
    virtual void on_send(outgoing_envelope& envelope, const event_descriptor& event, const context* cause);

    /// Before a listener (or catch-all subscriber) runs. Throwing rejects the message for
    /// that listener: it counts as the listener's failure and goes to the route's error
    /// handler. Values put in `ctx.values()` are the listener's to read.
    virtual void on_handle(const incoming_envelope& envelope, const listener_descriptor& listener, context& ctx);
};

} // namespace courier

#endif
