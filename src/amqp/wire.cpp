// AMQP 0-9-1 integers, strings and field tables (see wire.hpp).
#include "amqp/wire.hpp"

#include "courier/error.hpp"

#include <bit>
#include <cstring>

namespace courier::amqp {
namespace {

// Tables inside tables inside arrays...: a broker sends two or three levels (consumer
// capabilities); a limit keeps a hostile payload from exhausting the stack.
constexpr int max_depth = 16;

[[noreturn]] void truncated(const char* what)
{
    throw error(errc::bad_response, std::string("AMQP payload ends inside ") + what);
}

template <class T> T load(std::string_view bytes)
{
    T v{};
    std::memcpy(&v, bytes.data(), sizeof v);
    if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1)
    {
        auto* p = reinterpret_cast<unsigned char*>(&v);
        for (std::size_t i = 0; i < sizeof v / 2; ++i)
            std::swap(p[i], p[sizeof v - 1 - i]);
    }
    return v;
}

template <class T> void store(std::string& out, T v)
{
    unsigned char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v);
    if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1)
        for (std::size_t i = 0; i < sizeof v / 2; ++i)
            std::swap(bytes[i], bytes[sizeof v - 1 - i]);
    out.append(reinterpret_cast<const char*>(bytes), sizeof v);
}

} // namespace

const field_value* field_table::find(std::string_view name) const noexcept
{
    for (const auto& [n, v] : entries)
        if (n == name)
            return &v;
    return nullptr;
}

void field_table::set(std::string name, field_value value)
{
    for (auto& [n, v] : entries)
        if (n == name)
        {
            v = std::move(value);
            return;
        }
    entries.emplace_back(std::move(name), std::move(value));
}

bool operator==(const field_value& a, const field_value& b)
{
    return a.value == b.value;
}
bool operator==(const field_table& a, const field_table& b)
{
    return a.entries == b.entries;
}
bool operator==(const field_array& a, const field_array& b)
{
    return a.items == b.items;
}

std::string_view reader::take(std::size_t n, const char* what)
{
    if (data_.size() < n)
        truncated(what);
    auto out = data_.substr(0, n);
    data_.remove_prefix(n);
    return out;
}

std::uint8_t reader::u8(const char* what)
{
    return load<std::uint8_t>(take(1, what));
}
std::uint16_t reader::u16(const char* what)
{
    return load<std::uint16_t>(take(2, what));
}
std::uint32_t reader::u32(const char* what)
{
    return load<std::uint32_t>(take(4, what));
}
std::uint64_t reader::u64(const char* what)
{
    return load<std::uint64_t>(take(8, what));
}

std::string reader::shortstr(const char* what)
{
    auto n = u8(what);
    return std::string(take(n, what));
}

std::string reader::longstr(const char* what)
{
    auto n = u32(what);
    return std::string(take(n, what));
}

field_table reader::table(const char* what)
{
    return table_at(0, what);
}

field_table reader::table_at(int depth, const char* what)
{
    if (depth > max_depth)
        throw error(errc::bad_response,
                    "AMQP field tables nested deeper than " + std::to_string(max_depth) + " levels");
    reader inner(take(u32(what), what));
    field_table t;
    while (inner.remaining() > 0)
    {
        std::string name = inner.shortstr(what);
        field_value v = inner.value(depth);
        t.entries.emplace_back(std::move(name), std::move(v));
    }
    return t;
}

field_value reader::value(int depth)
{
    const char* what = "a field value";
    const char tag = static_cast<char>(u8(what));
    switch (tag)
    {
    case 't': return u8(what) != 0;
    case 'b': return static_cast<std::int8_t>(u8(what));
    case 'B': return u8(what);
    case 's':
    case 'U': return static_cast<std::int16_t>(u16(what));
    case 'u': return u16(what);
    case 'I': return static_cast<std::int32_t>(u32(what));
    case 'i': return u32(what);
    case 'l':
    case 'L': return static_cast<std::int64_t>(u64(what));
    case 'f': return std::bit_cast<float>(u32(what));
    case 'd': return std::bit_cast<double>(u64(what));
    case 'D':
    {
        decimal_value d;
        d.scale = u8(what);
        d.value = static_cast<std::int32_t>(u32(what));
        return d;
    }
    case 'S': return longstr(what);
    case 'x': return byte_array{longstr(what)};
    case 'T': return timestamp_value{u64(what)};
    case 'V': return void_value{};
    case 'F': return table_at(depth + 1, "a nested field table");
    case 'A':
    {
        if (depth + 1 > max_depth)
            throw error(errc::bad_response,
                        "AMQP field tables nested deeper than " + std::to_string(max_depth) + " levels");
        reader inner(take(u32("a field array"), "a field array"));
        field_array a;
        while (inner.remaining() > 0)
            a.items.push_back(inner.value(depth + 1));
        return a;
    }
    default:
        throw error(errc::bad_response, "unknown AMQP field value type 0x" +
                                            std::string(1, "0123456789abcdef"[(tag >> 4) & 15]) +
                                            std::string(1, "0123456789abcdef"[tag & 15]));
    }
}

void put_u8(std::string& out, std::uint8_t v)
{
    out += static_cast<char>(v);
}
void put_u16(std::string& out, std::uint16_t v)
{
    store(out, v);
}
void put_u32(std::string& out, std::uint32_t v)
{
    store(out, v);
}
void put_u64(std::string& out, std::uint64_t v)
{
    store(out, v);
}

void put_shortstr(std::string& out, std::string_view s, const char* what)
{
    if (s.size() > 255)
        throw error(errc::bad_configuration,
                    std::string("AMQP ") + what + " longer than 255 octets (" + std::to_string(s.size()) + ")");
    put_u8(out, static_cast<std::uint8_t>(s.size()));
    out.append(s);
}

void put_longstr(std::string& out, std::string_view s)
{
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

void put_table(std::string& out, const field_table& table)
{
    const std::size_t at = out.size();
    put_u32(out, 0);
    for (const auto& [name, value] : table.entries)
    {
        put_shortstr(out, name, "field table name");
        put_value(out, value);
    }
    const auto size = static_cast<std::uint32_t>(out.size() - at - 4);
    std::string patch;
    put_u32(patch, size);
    out.replace(at, 4, patch);
}

void put_value(std::string& out, const field_value& value)
{
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, void_value>)
                out += 'V';
            else if constexpr (std::is_same_v<T, bool>)
                out.append(1, 't').append(1, v ? '\1' : '\0');
            else if constexpr (std::is_same_v<T, std::int8_t>)
                out.append(1, 'b').append(1, static_cast<char>(v));
            else if constexpr (std::is_same_v<T, std::uint8_t>)
                out.append(1, 'B').append(1, static_cast<char>(v));
            else if constexpr (std::is_same_v<T, std::int16_t>)
                (out += 's', put_u16(out, static_cast<std::uint16_t>(v)));
            else if constexpr (std::is_same_v<T, std::uint16_t>)
                (out += 'u', put_u16(out, v));
            else if constexpr (std::is_same_v<T, std::int32_t>)
                (out += 'I', put_u32(out, static_cast<std::uint32_t>(v)));
            else if constexpr (std::is_same_v<T, std::uint32_t>)
                (out += 'i', put_u32(out, v));
            else if constexpr (std::is_same_v<T, std::int64_t>)
                (out += 'l', put_u64(out, static_cast<std::uint64_t>(v)));
            else if constexpr (std::is_same_v<T, float>)
                (out += 'f', put_u32(out, std::bit_cast<std::uint32_t>(v)));
            else if constexpr (std::is_same_v<T, double>)
                (out += 'd', put_u64(out, std::bit_cast<std::uint64_t>(v)));
            else if constexpr (std::is_same_v<T, decimal_value>)
                (out += 'D', put_u8(out, v.scale), put_u32(out, static_cast<std::uint32_t>(v.value)));
            else if constexpr (std::is_same_v<T, std::string>)
                (out += 'S', put_longstr(out, v));
            else if constexpr (std::is_same_v<T, byte_array>)
                (out += 'x', put_longstr(out, v.bytes));
            else if constexpr (std::is_same_v<T, timestamp_value>)
                (out += 'T', put_u64(out, v.seconds));
            else if constexpr (std::is_same_v<T, field_table>)
                (out += 'F', put_table(out, v));
            else if constexpr (std::is_same_v<T, field_array>)
            {
                out += 'A';
                const std::size_t at = out.size();
                put_u32(out, 0);
                for (const auto& item : v.items)
                    put_value(out, item);
                std::string patch;
                put_u32(patch, static_cast<std::uint32_t>(out.size() - at - 4));
                out.replace(at, 4, patch);
            }
        },
        value.value);
}

} // namespace courier::amqp
