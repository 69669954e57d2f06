// Fuzz target: typed-event decoding, `courier::json_decode<T>` (include/courier/json.hpp over
// src/json_reader.cpp), the translator every `courier::json<T>` route runs on message bodies.
//
// The event type uses every supported member kind: nested structs, vectors of structs,
// optionals, maps, each integer width and signedness, floating point, bool, strings and a
// raw `json_text` member. Contract: a value, or `courier::error` with
// `errc::translation_failed` whose text starts with the JSON path ("$").
#include <courier/error.hpp>
#include <courier/json.hpp>

#include <boost/describe/class.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz_events {

struct money
{
    std::int64_t units = 0;
    std::uint32_t nanos = 0;
    std::string currency;
};
BOOST_DESCRIBE_STRUCT(money, (), (units, nanos, currency))

struct line
{
    std::string sku;
    std::int16_t quantity = 0;
    std::uint8_t flags = 0;
    double weight = 0;
    float ratio = 0;
    std::optional<money> price;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, quantity, flags, weight, ratio, price))

struct order
{
    std::string id;
    bool express = false;
    std::uint64_t sequence = 0;
    std::int32_t priority = 0;
    std::vector<line> lines;
    std::optional<std::string> note;
    std::optional<std::vector<std::optional<std::int64_t>>> codes;
    std::map<std::string, std::string> tags;
    std::map<std::string, std::vector<money>> ledgers;
    courier::json_text extra;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, express, sequence, priority, lines, note, codes, tags, ledgers, extra))

} // namespace fuzz_events

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try
    {
        const auto o = courier::json_decode<fuzz_events::order>(text);
        for (const auto& l : o.lines)
            if (l.sku.size() > size)
                std::abort();
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::translation_failed)
            std::abort();
    }
    return 0;
}
