// Correlation-id propagation, an envelope pipeline: every event carries, in a header, the id
// of the chain of events it belongs to.
//
// - Handling: the id in the message's header is put in the context, where
//   `correlation_id_of(ctx)` reads it; a message without one starts a chain and gets a new id.
// - Sending: an event sent with the context of the message being handled
//   (`bus.send(event, ctx)`) carries that message's id; one sent from outside any handler
//   (the edge of the system) gets a new id. A header the caller set already is kept.
//
// Add the same pipeline to the bus and to the router:
//
//     auto ids = std::make_shared<courier::correlation_id_pipeline>();
//     bus.add_pipeline(ids);
//     router.add_pipeline(ids);
#ifndef COURIER_EVENTS_CORRELATION_HPP
#define COURIER_EVENTS_CORRELATION_HPP

#include <courier/context.hpp>
#include <courier/events/pipeline.hpp>

#include <string>
#include <string_view>

namespace courier {

/// The value the pipeline keeps in a handler's context.
struct correlation_id
{
    std::string value;
};

/// The correlation id of the message `ctx` is about; empty if no pipeline read one.
std::string_view correlation_id_of(const context& ctx) noexcept;

/// The pipeline (see the top of this file). Thread-safe: it keeps nothing between calls.
class correlation_id_pipeline final : public envelope_pipeline
{
public:
    /// `header` names the attribute carrying the id.
    explicit correlation_id_pipeline(std::string header = "correlation_id");

    void on_send(outgoing_envelope& envelope, const event_descriptor& event, const context* cause) override;
    void on_handle(const incoming_envelope& envelope, const listener_descriptor& listener, context& ctx) override;

    const std::string& header() const noexcept { return header_; }

    /// A new random id: 32 hex digits in the 8-4-4-4-12 form of a version 4 UUID.
    static std::string new_id();

private:
    std::string header_;
};

} // namespace courier

#endif
