// The compiled core of the typed JSON translator: simdjson's DOM behind json_node.
#include <courier/error.hpp>

#include <courier/detail/json_reader.hpp>

#include <simdjson.h>

#include <cstring>
#include <string>

namespace courier::detail {
namespace {

static_assert(sizeof(simdjson::dom::element) <= 16);
static_assert(std::is_trivially_copyable_v<simdjson::dom::element>);

simdjson::dom::element get(const unsigned char* storage)
{
    simdjson::dom::element e;
    std::memcpy(static_cast<void*>(&e), storage, sizeof e);
    return e;
}

void put(unsigned char* storage, simdjson::dom::element e)
{
    std::memcpy(storage, static_cast<const void*>(&e), sizeof e);
}

json_node wrap(simdjson::dom::element e);

std::string_view kind_name(simdjson::dom::element_type t)
{
    using simdjson::dom::element_type;
    switch (t)
    {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a floating-point number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "an unknown value";
}

} // namespace

std::string json_path::render() const
{
    if (parent == nullptr)
        return "$";
    std::string out = parent->render();
    if (is_index)
        out += '[' + std::to_string(index) + ']';
    else
    {
        out += '.';
        out += field;
    }
    return out;
}

void throw_json_error(const json_path& path, std::string_view what)
{
    throw error(errc::translation_failed, path.render() + ": " + std::string(what));
}

void json_node::type_error(const json_path& path, std::string_view expected) const
{
    throw_json_error(path,
                     "expected " + std::string(expected) + ", got " + std::string(kind_name(get(storage_).type())));
}

bool json_node::is_null() const
{
    return get(storage_).is_null();
}

bool json_node::as_bool(const json_path& path) const
{
    bool v;
    if (get(storage_).get(v) != simdjson::SUCCESS)
        type_error(path, "a boolean");
    return v;
}

std::int64_t json_node::as_int64(const json_path& path) const
{
    const auto e = get(storage_);
    std::int64_t v;
    const auto rc = e.get(v);
    if (rc == simdjson::NUMBER_OUT_OF_RANGE)
        throw_json_error(path, "integer out of range");
    if (rc != simdjson::SUCCESS)
        type_error(path, "an integer");
    return v;
}

std::uint64_t json_node::as_uint64(const json_path& path) const
{
    const auto e = get(storage_);
    std::uint64_t v;
    const auto rc = e.get(v);
    if (rc == simdjson::NUMBER_OUT_OF_RANGE)
        throw_json_error(path, e.is_int64() ? "expected a non-negative integer" : "integer out of range");
    if (rc != simdjson::SUCCESS)
        type_error(path, "a non-negative integer");
    return v;
}

double json_node::as_double(const json_path& path) const
{
    const auto e = get(storage_);
    if (!e.is_number())
        type_error(path, "a number");
    double v;
    if (e.get(v) == simdjson::SUCCESS)
        return v;
    std::int64_t i;
    if (e.get(i) == simdjson::SUCCESS)
        return static_cast<double>(i);
    std::uint64_t u = 0;
    if (e.get(u) != simdjson::SUCCESS)
        type_error(path, "a number");
    return static_cast<double>(u);
}

std::string_view json_node::as_string(const json_path& path) const
{
    std::string_view v;
    if (get(storage_).get(v) != simdjson::SUCCESS)
        type_error(path, "a string");
    return v;
}

std::string_view json_node::raw_json() const
{
    // simdjson's DOM does not keep source offsets; minify reproduces an equivalent text.
    thread_local std::string text;
    text = simdjson::minify(get(storage_));
    return text;
}

void json_node::for_each_field(const json_path& path, const std::function<void(std::string_view, json_node)>& fn) const
{
    simdjson::dom::object object;
    if (get(storage_).get(object) != simdjson::SUCCESS)
        type_error(path, "an object");
    for (auto field : object)
        fn(field.key, wrap(field.value));
}

void json_node::for_each_element(const json_path& path, const std::function<void(std::size_t, json_node)>& fn) const
{
    simdjson::dom::array array;
    if (get(storage_).get(array) != simdjson::SUCCESS)
        type_error(path, "an array");
    std::size_t i = 0;
    for (auto element : array)
        fn(i++, wrap(element));
}

bool json_node::find_field(const json_path& path, std::string_view key, json_node& out) const
{
    simdjson::dom::object object;
    if (get(storage_).get(object) != simdjson::SUCCESS)
        type_error(path, "an object");
    simdjson::dom::element value;
    if (object.at_key(key).get(value) != simdjson::SUCCESS)
        return false;
    put(out.storage_, value);
    return true;
}

namespace {

json_node wrap(simdjson::dom::element e)
{
    // json_node is nothing but the element's bytes (see the static_asserts above).
    json_node node;
    std::memcpy(static_cast<void*>(&node), static_cast<const void*>(&e), sizeof e);
    return node;
}

} // namespace

json_document::json_document(std::string_view text)
{
    // One parser per thread: parsing allocates its buffers once and reuses them.
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    const auto rc = parser.parse(text.data(), text.size()).get(root);
    if (rc != simdjson::SUCCESS)
        throw error(errc::translation_failed, std::string("body is not valid JSON: ") + simdjson::error_message(rc));
    put(root_.storage_, root);
}

} // namespace courier::detail
