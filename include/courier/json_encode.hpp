// Typed JSON out: `courier::json_encode(value)` writes a struct declared with Boost.Describe
// (or any supported type) as compact JSON, the mirror image of `courier::json_decode<T>`.
//
//     struct order { std::string id; std::int64_t quantity; std::optional<std::string> note; };
//     BOOST_DESCRIBE_STRUCT(order, (), (id, quantity, note))
//
//     courier::json_encode(order{"o-1", 2, {}})   // {"id":"o-1","quantity":2}
//
// Supported types are those `json_decode` reads: bool, integers, floating point (shortest
// form that reads back exactly), std::string, std::optional<X> (an empty member is left
// out; an empty element of an array or map is null), std::vector<X>,
// std::map<std::string, X>, nested described structs, described enums (as the
// enumerator's name), and `courier::json_text` (written as is: it must already be JSON). So
// `json_decode<T>(json_encode(v))` gives `v` back.
//
// Strings are escaped as RFC 8259 requires: `"` and `\`, and control characters as \n, \t
// ... or \u00XX; everything else, non-ASCII included, is written as UTF-8. Errors: throws
// `courier::error` with `std::errc::invalid_argument` and the JSON path when a string is
// not valid UTF-8 or a number is NaN or infinite (JSON has no form for either).
#ifndef COURIER_JSON_ENCODE_HPP
#define COURIER_JSON_ENCODE_HPP

#include <courier/error.hpp>
#include <courier/json.hpp>

#include <courier/detail/json_reader.hpp>
#include <courier/detail/json_writer.hpp>

#include <boost/describe/class.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace courier {

namespace detail {

/// A struct declared with BOOST_DESCRIBE_STRUCT (what selects the typed overloads).
template <class T>
concept described_struct = boost::describe::has_describe_members<T>::value;

[[noreturn]] inline void throw_encode_error(const json_path& path, std::string_view what)
{
    throw error(std::make_error_code(std::errc::invalid_argument), path.render() + ": " + std::string(what));
}

/// Appends `text` as a JSON string literal, quotes included.
inline void json_write_string(std::string& out, std::string_view text, const json_path& path)
{
    const auto bad = append_json_string(out, text);
    if (bad != std::string_view::npos)
        throw_encode_error(path, "string is not valid UTF-8 (byte " + std::to_string(bad) + ")");
}

template <class T> void json_write_number(std::string& out, T value, const json_path& path)
{
    if constexpr (std::is_floating_point_v<T>)
        if (!std::isfinite(value))
            throw_encode_error(path, "NaN and infinity have no JSON form");
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

template <class T> void json_write(std::string& out, const T& value, const json_path& path)
{
    if constexpr (std::is_same_v<T, bool>)
        out += value ? "true" : "false";
    else if constexpr (std::is_arithmetic_v<T>)
        json_write_number(out, value, path);
    else if constexpr (std::is_same_v<T, std::string>)
        json_write_string(out, value, path);
    else if constexpr (std::is_same_v<T, json_text>)
        out += value.text;
    else if constexpr (described_enum<T>)
    {
        bool found = false;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto e) {
            if (!found && value == e.value)
            {
                json_write_string(out, e.name, path);
                found = true;
            }
        });
        if (!found) // a value cast from a number no enumerator has
            throw_encode_error(path, "enum value " + std::to_string(static_cast<std::underlying_type_t<T>>(value)) +
                                         " has no name (one of: " + json_enum_names<T>() + ")");
    }
    else if constexpr (is_optional<T>::value)
    {
        if (value)
            json_write(out, *value, path);
        else
            out += "null";
    }
    else if constexpr (is_vector<T>::value)
    {
        out += '[';
        for (std::size_t i = 0; i < value.size(); ++i)
        {
            if (i != 0)
                out += ',';
            const json_path element_path{&path, {}, i, true};
            json_write(out, value[i], element_path);
        }
        out += ']';
    }
    else if constexpr (is_string_map<T>::value)
    {
        out += '{';
        bool first = true;
        for (const auto& [key, element] : value)
        {
            if (!first)
                out += ',';
            first = false;
            const json_path member_path{&path, key};
            json_write_string(out, key, member_path);
            out += ':';
            json_write(out, element, member_path);
        }
        out += '}';
    }
    else
    {
        static_assert(boost::describe::has_describe_members<T>::value,
                      "courier::json_encode: declare the struct with BOOST_DESCRIBE_STRUCT");
        using members = boost::describe::describe_members<T, boost::describe::mod_public>;
        out += '{';
        bool first = true;
        boost::mp11::mp_for_each<members>([&](auto member) {
            using member_type = std::remove_cvref_t<decltype(value.*member.pointer)>;
            json_check_member<T, decltype(member)::pointer, member_type>();
            if constexpr (json_supported<member_type>()) // else only the error above
            {
                const auto& field = value.*member.pointer;
                if constexpr (is_optional<member_type>::value)
                    if (!field)
                        return; // json_decode reads an absent member as empty
                if (!first)
                    out += ',';
                first = false;
                const json_path member_path{&path, member.name};
                json_write_string(out, member.name, member_path);
                out += ':';
                json_write(out, field, member_path);
            }
        });
        out += '}';
    }
}

} // namespace detail

/// `value` as compact JSON (see the file comment).
template <class T> std::string json_encode(const T& value)
{
    std::string out;
    const detail::json_path root{};
    detail::json_write(out, value, root);
    return out;
}

} // namespace courier

#endif
