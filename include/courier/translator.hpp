// MessageTranslators: turn the raw message into what the handler takes.
//
// A translator is any callable `T(const courier::message&)` that throws on failure;
// courier reports the exception to the route's error handler as a translation error.
// Built in: `raw_body` (the body as a string), `json<T>` (typed JSON, see json.hpp) and,
// with the SQS provider, the SNS envelope translator.
#ifndef COURIER_TRANSLATOR_HPP
#define COURIER_TRANSLATOR_HPP

#include <courier/message.hpp>

#include <concepts>
#include <string>
#include <type_traits>

namespace courier {

/// The body as a std::string.
struct raw_body
{
    std::string operator()(const message& msg) const { return msg.body; }
};

/// Satisfied by callables usable as a route's translator.
template <class T>
concept translator =
    std::invocable<const T&, const message&> && !std::is_void_v<std::invoke_result_t<const T&, const message&>>;

/// The type a translator produces.
template <translator T> using translated_t = std::remove_cvref_t<std::invoke_result_t<const T&, const message&>>;

} // namespace courier

#endif
