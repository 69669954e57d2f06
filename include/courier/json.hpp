// Typed JSON: `courier::json<T>` translates a message body into a struct declared with
// Boost.Describe, and `courier::json_decode<T>` does the same for any string.
//
//     struct order { std::string id; std::int64_t quantity; std::optional<std::string> note; };
//     BOOST_DESCRIBE_STRUCT(order, (), (id, quantity, note))
//
//     mgr.add_route("orders", queue, courier::json<order>{}, handle_order);
//
// Supported member types: bool, integers (range-checked), floating point, std::string,
// std::optional<X> (absent or null), std::vector<X>, std::map<std::string, X>, nested
// described structs, enums declared with BOOST_DESCRIBE_ENUM (as the enumerator's name:
// "status": "shipped"), and `courier::json_text` (the raw JSON of a member, undecoded).
// A member of any other type is a compile error naming the struct, the member and its type.
// Unknown members are ignored, unless `json_rules<T>::reject_unknown_members` says otherwise;
// a missing non-optional member is an error. A struct may check itself once read: a member
// function `validate() const` returning a message (empty: valid) or throwing. Every error is
// a translation error (so a redrive policy moves the message to the dead-letter queue, body
// intact) naming the path and what was expected: "$.items[1].quantity: expected an integer,
// got a string", "$.items[0]: quantity must be positive".
#ifndef COURIER_JSON_HPP
#define COURIER_JSON_HPP

#include <courier/error.hpp>
#include <courier/message.hpp>

#include <courier/detail/json_reader.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace courier {

/// A member whose JSON is kept as text (for payloads decoded later, or passed on).
struct json_text
{
    std::string text;
};

/// Per-type decoding rules; specialise for a struct of yours:
///
///     template <> struct courier::json_rules<order> { static constexpr bool reject_unknown_members = true; };
template <class T> struct json_rules
{
    /// A member the struct does not declare is an error ("$.colour: unknown member (known:
    /// id, quantity)") instead of being ignored.
    static constexpr bool reject_unknown_members = false;
};

namespace detail {

template <class T> struct is_optional : std::false_type
{
};
template <class T> struct is_optional<std::optional<T>> : std::true_type
{
};
template <class T> struct is_vector : std::false_type
{
};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type
{
};
template <class T> struct is_string_map : std::false_type
{
};
template <class T, class C, class A> struct is_string_map<std::map<std::string, T, C, A>> : std::true_type
{
};

template <class T>
concept described_enum = std::is_enum_v<T> && boost::describe::has_describe_enumerators<T>::value;

/// Whether json<T> can read (and json_encode write) a T: a described struct counts as
/// readable here, its own members are checked where it is read.
template <class T> constexpr bool json_supported()
{
    if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string> || std::is_same_v<T, json_text> ||
                  described_enum<T>)
        return true;
    else if constexpr (is_optional<T>::value || is_vector<T>::value)
        return json_supported<typename T::value_type>();
    else if constexpr (is_string_map<T>::value)
        return json_supported<typename T::mapped_type>();
    else
        return std::is_class_v<T> && boost::describe::has_describe_members<T>::value;
}

// The error a member of an unsupported type gets. The compiler prints this template's
// arguments with it: the struct, `&struct::member` and the member's type.
template <class Struct, auto Member, class Type> constexpr void json_check_member()
{
    static_assert(json_supported<Type>(),
                  "courier::json: a member's type is not supported (the struct, &struct::member and the type "
                  "are this function's template arguments). Supported: bool, integers, floating point, "
                  "std::string, json_text, enums declared with BOOST_DESCRIBE_ENUM, structs declared with "
                  "BOOST_DESCRIBE_STRUCT, and std::optional, std::vector and std::map<std::string, X> of those");
}

/// A struct's own check after it was read: `validate() const` returning a message (empty or
/// `std::nullopt`: valid), or returning nothing and throwing.
template <class T>
concept self_validating = requires(const T& value)
{
    value.validate();
};

template <class T> void json_validate(const T& value, const json_path& path)
{
    using result = decltype(value.validate());
    try
    {
        if constexpr (std::is_void_v<result>)
            value.validate();
        else if constexpr (is_optional<result>::value)
        {
            if (const auto problem = value.validate(); problem && !std::string_view(*problem).empty())
                throw_json_error(path, std::string_view(*problem));
        }
        else if (const auto problem = value.validate(); !std::string_view(problem).empty())
            throw_json_error(path, std::string_view(problem));
    }
    catch (const courier::error&)
    {
        throw;
    }
    catch (const std::exception& e)
    {
        throw_json_error(path, e.what());
    }
}

/// The public members of a described struct, for an error message: "a, b, c".
template <class T> std::string json_member_names()
{
    std::string names;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto m) {
        if (!names.empty())
            names += ", ";
        names += m.name;
    });
    return names;
}

/// The enumerators of a described enum, for an error message: "a, b, c".
template <described_enum E> std::string json_enum_names()
{
    std::string names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto e) {
        if (!names.empty())
            names += ", ";
        names += e.name;
    });
    return names;
}

template <class T> void json_read(const json_node& node, T& out, const json_path& path)
{
    if constexpr (std::is_same_v<T, bool>)
        out = node.as_bool(path);
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    {
        const auto v = node.as_int64(path);
        if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
            throw_json_error(path, "integer out of range for the member's type");
        out = static_cast<T>(v);
    }
    else if constexpr (std::is_integral_v<T>)
    {
        const auto v = node.as_uint64(path);
        if (v > std::numeric_limits<T>::max())
            throw_json_error(path, "integer out of range for the member's type");
        out = static_cast<T>(v);
    }
    else if constexpr (std::is_floating_point_v<T>)
        out = static_cast<T>(node.as_double(path));
    else if constexpr (std::is_same_v<T, std::string>)
        out = std::string(node.as_string(path));
    else if constexpr (std::is_same_v<T, json_text>)
        out.text = std::string(node.raw_json());
    else if constexpr (described_enum<T>)
    {
        const auto name = node.as_string(path);
        bool found = false;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto e) {
            if (!found && name == e.name)
            {
                out = e.value;
                found = true;
            }
        });
        if (!found)
            throw_json_error(path, "'" + std::string(name) + "' is not one of: " + json_enum_names<T>());
    }
    else if constexpr (is_optional<T>::value)
    {
        if (node.is_null())
            out.reset();
        else
            json_read(node, out.emplace(), path);
    }
    else if constexpr (is_vector<T>::value)
    {
        out.clear();
        node.for_each_element(path, [&](std::size_t i, json_node element) {
            const json_path element_path{&path, {}, i, true};
            json_read(element, out.emplace_back(), element_path);
        });
    }
    else if constexpr (is_string_map<T>::value)
    {
        out.clear();
        node.for_each_field(path, [&](std::string_view key, json_node value) {
            const json_path member_path{&path, key};
            json_read(value, out[std::string(key)], member_path);
        });
    }
    else
    {
        static_assert(boost::describe::has_describe_members<T>::value,
                      "courier::json: declare the struct with BOOST_DESCRIBE_STRUCT");
        using members = boost::describe::describe_members<T, boost::describe::mod_public>;
        boost::mp11::mp_for_each<members>([&](auto member) {
            using member_type = std::remove_cvref_t<decltype(out.*member.pointer)>;
            json_check_member<T, decltype(member)::pointer, member_type>();
            if constexpr (json_supported<member_type>()) // else only the error above
            {
                const json_path member_path{&path, member.name};
                auto& field = out.*member.pointer;
                json_node value;
                if (node.find_field(path, member.name, value))
                    json_read(value, field, member_path);
                else if constexpr (is_optional<member_type>::value)
                    field.reset();
                else
                    throw_json_error(member_path, "required member is missing");
            }
        });
        if constexpr (json_rules<T>::reject_unknown_members)
            node.for_each_field(path, [&](std::string_view key, json_node) {
                bool known = false;
                boost::mp11::mp_for_each<members>([&](auto member) { known = known || key == member.name; });
                if (!known)
                {
                    const json_path member_path{&path, key};
                    throw_json_error(member_path, "unknown member (known: " + json_member_names<T>() + ")");
                }
            });
        if constexpr (self_validating<T>)
            json_validate(out, path);
    }
}

} // namespace detail

/// Decodes `text` into a T (see the file comment). Throws `courier::error` with
/// `errc::translation_failed` and the JSON path on failure.
template <class T> T json_decode(std::string_view text)
{
    const detail::json_document doc(text);
    const detail::json_path root{};
    T value{};
    detail::json_read(doc.root(), value, root);
    return value;
}

/// The typed JSON translator for routes.
template <class T> struct json
{
    T operator()(const message& msg) const { return json_decode<T>(msg.body); }
};

} // namespace courier

#endif
