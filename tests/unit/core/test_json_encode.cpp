// Tests for include/courier/json_encode.hpp: the exact text of every supported type, string
// escaping byte by byte, round trips through json_decode, and the two refusals.
#include <courier/error.hpp>
#include <courier/json.hpp>
#include <courier/json_encode.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

struct line
{
    std::string sku;
    std::uint32_t quantity = 0;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, quantity))

struct order
{
    std::string id;
    std::int64_t total_cents = 0;
    double weight = 0;
    bool paid = false;
    std::optional<std::string> note;
    std::vector<line> lines;
    std::map<std::string, std::optional<int>> flags;
    courier::json_text extra;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, total_cents, weight, paid, note, lines, flags, extra))

std::string encode_error(const auto& value)
{
    try
    {
        courier::json_encode(value);
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == std::make_error_code(std::errc::invalid_argument));
        return e.what();
    }
    FAIL("expected an error");
    return {};
}

} // namespace

TEST_CASE("json_encode: structs, vectors, maps, optionals and raw members")
{
    const order o{.id = "o-1",
                  .total_cents = -1250,
                  .weight = 0.1,
                  .paid = true,
                  .note = std::nullopt,
                  .lines = {{"a", 2}, {"b", 1}},
                  .flags = {{"x", 1}, {"y", std::nullopt}},
                  .extra = {R"({"k":[1,2]})"}};
    const auto text = courier::json_encode(o);
    CHECK(text == R"({"id":"o-1","total_cents":-1250,"weight":0.1,"paid":true,)"
                  R"("lines":[{"sku":"a","quantity":2},{"sku":"b","quantity":1}],)"
                  R"("flags":{"x":1,"y":null},"extra":{"k":[1,2]}})");
    const auto back = courier::json_decode<order>(text);
    CHECK(back.id == o.id);
    CHECK(back.total_cents == o.total_cents);
    CHECK(back.weight == o.weight);
    CHECK(back.paid);
    CHECK_FALSE(back.note);
    REQUIRE(back.lines.size() == 2);
    CHECK(back.lines[1].sku == "b");
    CHECK(back.flags == o.flags);
    CHECK(back.extra.text == o.extra.text);

    CHECK(courier::json_encode(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
    CHECK(courier::json_encode(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
    CHECK(courier::json_encode(1e300) == "1e+300");
    CHECK(courier::json_decode<double>(courier::json_encode(0.1 + 0.2)) == 0.1 + 0.2);
    CHECK(courier::json_encode(std::vector<int>{}) == "[]");
    CHECK(courier::json_encode(std::optional<int>{}) == "null");
}

TEST_CASE("json_encode: strings are escaped as RFC 8259 requires, UTF-8 passes through")
{
    CHECK(courier::json_encode(std::string("a\"b\\c/d")) == R"("a\"b\\c/d")");
    CHECK(courier::json_encode(std::string("\b\f\n\r\t")) == R"("\b\f\n\r\t")");
    CHECK(courier::json_encode(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\x7f\"");
    CHECK(courier::json_encode(std::string(1, '\0')) == R"("\u0000")");
    CHECK(courier::json_encode(std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")) ==
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    // Every byte below 0x80 round-trips through the decoder.
    std::string all;
    for (int c = 0; c < 0x80; ++c)
        all += static_cast<char>(c);
    CHECK(courier::json_decode<std::string>(courier::json_encode(all)) == all);
}

TEST_CASE("json_encode: text that is not UTF-8 and non-finite numbers are refused with their path")
{
    CHECK(encode_error(std::string("ok\xff")) == "$: string is not valid UTF-8 (byte 2)");
    CHECK(encode_error(std::string("\xc0\xaf")) == "$: string is not valid UTF-8 (byte 0)");         // overlong
    CHECK(encode_error(std::string("\xed\xa0\x80")) == "$: string is not valid UTF-8 (byte 0)");     // surrogate
    CHECK(encode_error(std::string("\xf4\x90\x80\x80")) == "$: string is not valid UTF-8 (byte 0)"); // > U+10FFFF
    CHECK(encode_error(std::string("\xe2\x82")) == "$: string is not valid UTF-8 (byte 0)");         // truncated
    order o;
    o.lines = {{"a", 1}, {"b\x80", 1}};
    CHECK(encode_error(o) == "$.lines[1].sku: string is not valid UTF-8 (byte 1)");
    o.lines.clear();
    o.flags = {{"\xff", 1}};
    CHECK(encode_error(o) == "$.flags.\xff: string is not valid UTF-8 (byte 0)");
    o.flags.clear();
    o.weight = std::nan("");
    CHECK(encode_error(o) == "$.weight: NaN and infinity have no JSON form");
    CHECK(encode_error(std::numeric_limits<double>::infinity()) == "$: NaN and infinity have no JSON form");
}

namespace {

enum class tier
{
    bronze,
    gold
};
BOOST_DESCRIBE_ENUM(tier, bronze, gold)

struct member
{
    std::string name;
    tier level = tier::bronze;
};
BOOST_DESCRIBE_STRUCT(member, (), (name, level))

} // namespace

TEST_CASE("json_encode: a described enum is written as its enumerator's name, and reads back")
{
    const member m{"ada", tier::gold};
    CHECK(courier::json_encode(m) == R"({"name":"ada","level":"gold"})");
    const auto back = courier::json_decode<member>(courier::json_encode(m));
    CHECK(back.level == tier::gold);
    try
    {
        courier::json_encode(member{"bob", static_cast<tier>(7)});
        FAIL("encoded an enum value without a name");
    }
    catch (const courier::error& e)
    {
        CHECK(std::string(e.what()).find("$.level: enum value 7 has no name (one of: bronze, gold)") !=
              std::string::npos);
    }
}
