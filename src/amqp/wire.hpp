// AMQP 0-9-1 data types without any I/O: integers in network order, short and long
// strings, and field tables with every field value type RabbitMQ sends.
//
// Field value tags follow RabbitMQ's reading of the specification (its errata), which is
// what every broker a courier user meets speaks: `s` is a signed 16-bit integer (not a
// short string), `l` a signed 64-bit integer, `x` a byte array. On reading, `U` and `L`
// (the specification's own tags for signed 16 and 64 bits) are accepted too.
//
// `reader` walks a payload and throws `courier::error` (errc::bad_response) naming what it
// was reading when the payload ends early, a tag is unknown, or tables nest too deep; the
// writer functions append to a std::string and throw errc::bad_configuration for a value
// the wire cannot carry (a short string over 255 octets).
#ifndef COURIER_SRC_AMQP_WIRE_HPP
#define COURIER_SRC_AMQP_WIRE_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace courier::amqp {

struct field_value;

/// A field table: name-value pairs in wire order (names are short strings).
struct field_table
{
    std::vector<std::pair<std::string, field_value>> entries;

    /// The first entry called `name`, or null.
    const field_value* find(std::string_view name) const noexcept;
    void set(std::string name, field_value value);
};

struct field_array
{
    std::vector<field_value> items;
};

struct decimal_value
{
    std::uint8_t scale = 0;
    std::int32_t value = 0;
    friend bool operator==(const decimal_value&, const decimal_value&) = default;
};

/// `x`: raw bytes (RabbitMQ's extension), kept apart from `S` long strings.
struct byte_array
{
    std::string bytes;
    friend bool operator==(const byte_array&, const byte_array&) = default;
};

/// `T`: seconds since the epoch.
struct timestamp_value
{
    std::uint64_t seconds = 0;
    friend bool operator==(const timestamp_value&, const timestamp_value&) = default;
};

/// `V`: no value.
struct void_value
{
    friend bool operator==(const void_value&, const void_value&) = default;
};

/// One field value. The alternative says the tag: bool t, int8_t b, uint8_t B, int16_t s,
/// uint16_t u, int32_t I, uint32_t i, int64_t l, float f, double d, decimal_value D,
/// std::string S, byte_array x, timestamp_value T, field_array A, field_table F, void_value V.
struct field_value
{
    using variant_type = std::variant<void_value, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                                      std::int32_t, std::uint32_t, std::int64_t, float, double, decimal_value,
                                      std::string, byte_array, timestamp_value, field_array, field_table>;
    variant_type value;

    field_value() = default;
    template <class T>
    requires std::is_constructible_v<variant_type, T&&> &&
        (!std::is_same_v<std::decay_t<T>, field_value>)field_value(T&& v)
        : value(std::forward<T>(v))
    {
    }
};

bool operator==(const field_value& a, const field_value& b);
bool operator==(const field_table& a, const field_table& b);
bool operator==(const field_array& a, const field_array& b);

/// Reads AMQP types from a payload, front to back.
class reader
{
public:
    explicit reader(std::string_view data) noexcept
        : data_(data)
    {
    }

    std::uint8_t u8(const char* what);
    std::uint16_t u16(const char* what);
    std::uint32_t u32(const char* what);
    std::uint64_t u64(const char* what);
    std::string shortstr(const char* what);
    std::string longstr(const char* what);
    field_table table(const char* what);
    /// `n` raw octets.
    std::string_view take(std::size_t n, const char* what);

    std::size_t remaining() const noexcept { return data_.size(); }

private:
    field_value value(int depth);
    field_table table_at(int depth, const char* what);

    std::string_view data_;
};

void put_u8(std::string& out, std::uint8_t v);
void put_u16(std::string& out, std::uint16_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_u64(std::string& out, std::uint64_t v);
/// Throws `courier::error` (errc::bad_configuration) naming `what` if `s` is over 255 octets.
void put_shortstr(std::string& out, std::string_view s, const char* what = "short string");
void put_longstr(std::string& out, std::string_view s);
void put_table(std::string& out, const field_table& table);
void put_value(std::string& out, const field_value& value);

} // namespace courier::amqp

#endif
