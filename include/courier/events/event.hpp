// Named event types: a struct declared with Boost.Describe, bound to an event name.
//
//     struct lead_created
//     {
//         static constexpr courier::event_options courier_event{.name = "lead.created"};
//         std::string id;
//         std::string email;
//     };
//     BOOST_DESCRIBE_STRUCT(lead_created, (), (id, email))
//
// Without `courier_event` the name is the type's unqualified name ("hello_event" for
// `demo::hello_event`), as eventing's `@event()` does with the class name. Routers and buses
// know a type through its `event_descriptor`; two types with one name are refused when the
// second is registered with a router or a bus.
#ifndef COURIER_EVENTS_EVENT_HPP
#define COURIER_EVENTS_EVENT_HPP

#include <concepts>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>

namespace courier {

/// What a type declares about itself as an event, through a static member
/// `static constexpr courier::event_options courier_event{...};`.
struct event_options
{
    /// The event's name; empty: the type's unqualified name.
    std::string_view name{};
    /// Its media type (microcosm-pubsub keys on it, see `event_key::media_type`); empty: none.
    std::string_view media_type{};
    /// For transports that create a queue per event (eventing's `durable`): ask for a
    /// persistent one. Queues courier does not create (SQS, SNS) ignore it.
    bool durable = false;
};

/// An event type as routers, buses and pipelines know it.
struct event_descriptor
{
    std::string name;
    std::string media_type;
    bool durable = false;
    /// The C++ type; `typeid(void)` for an event known by name only (a listener of raw
    /// messages, a raw send).
    std::type_index type = typeid(void);
};

namespace detail {

/// `typeid(T).name()` demangled, without namespaces or enclosing classes.
std::string unqualified_type_name(const std::type_info& type);

template <class T>
concept declares_event_options = requires
{
    {
        T::courier_event
        } -> std::convertible_to<event_options>;
};

} // namespace detail

/// The descriptor of event type `T` (see the top of this file), built once.
template <class T> const event_descriptor& describe_event()
{
    static const event_descriptor described = [] {
        event_options declared{};
        if constexpr (detail::declares_event_options<T>)
            declared = T::courier_event;
        return event_descriptor{.name = declared.name.empty() ? detail::unqualified_type_name(typeid(T))
                                                              : std::string(declared.name),
                                .media_type = std::string(declared.media_type),
                                .durable = declared.durable,
                                .type = typeid(T)};
    }();
    return described;
}

} // namespace courier

#endif
