// A small, compiled JSON reading core behind the typed `courier::json<T>` translator.
//
// The public template walks the user's Boost.Describe'd struct; every JSON access goes
// through these non-template functions, which wrap simdjson in src/json_reader.cpp.
// That keeps simdjson out of public headers and compiles the parser once (the fmt
// `vformat` pattern). Errors name the JSON path: "$.items[2].qty: expected an integer,
// got a string".
#ifndef COURIER_DETAIL_JSON_READER_HPP
#define COURIER_DETAIL_JSON_READER_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace courier::detail {

/// One step of the path from the document root, kept on the stack while walking and
/// rendered only when an error is reported.
struct json_path
{
    const json_path* parent = nullptr;
    std::string_view field; ///< set for an object member
    std::size_t index = 0;  ///< used when `field` is empty and `is_index`
    bool is_index = false;

    std::string render() const;
};

/// A borrowed view of one JSON value inside a parsed document. Cheap to copy; valid
/// while the `json_document` it came from is alive.
class json_node
{
public:
    bool is_null() const;
    bool as_bool(const json_path& path) const;
    std::int64_t as_int64(const json_path& path) const;
    std::uint64_t as_uint64(const json_path& path) const;
    double as_double(const json_path& path) const;
    std::string_view as_string(const json_path& path) const;
    /// The raw JSON text of this value (for `courier::json_text` members).
    std::string_view raw_json() const;

    /// Calls `fn` for each member of an object (error if not an object).
    void for_each_field(const json_path& path, const std::function<void(std::string_view, json_node)>& fn) const;
    /// Calls `fn` for each element of an array (error if not an array).
    void for_each_element(const json_path& path, const std::function<void(std::size_t, json_node)>& fn) const;
    /// Checks that this is an object, then looks up `key` (false when absent).
    bool find_field(const json_path& path, std::string_view key, json_node& out) const;

    /// Throws the translation error "<path>: expected <what>, got <kind>".
    [[noreturn]] void type_error(const json_path& path, std::string_view expected) const;

private:
    friend class json_document;
    alignas(8) unsigned char storage_[16]{}; // a simdjson::dom::element, opaque here
};

/// A parsed JSON text. Uses a per-thread parser, so one document per thread may be
/// alive at a time (decoding is synchronous, so this holds).
class json_document
{
public:
    explicit json_document(std::string_view text);
    json_node root() const { return root_; }

private:
    json_node root_;
};

/// Throws the translation error "<path>: <what>" (a `courier::error`).
[[noreturn]] void throw_json_error(const json_path& path, std::string_view what);

} // namespace courier::detail

#endif
