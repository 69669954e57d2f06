// Typed JSON decoding: every supported member type, and errors that name the path.
#include "test_support.hpp"

#include <courier/json.hpp>

namespace {

struct line_item
{
    std::string sku;
    std::uint16_t quantity = 0;
    double price = 0;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, quantity, price))

struct purchase
{
    std::string id;
    bool express = false;
    std::int64_t customer = 0;
    std::vector<line_item> items;
    std::optional<std::string> note;
    std::map<std::string, std::string> tags;
    courier::json_text extra;
};
BOOST_DESCRIBE_STRUCT(purchase, (), (id, express, customer, items, note, tags, extra))

std::string error_of(std::string_view text)
{
    try
    {
        courier::json_decode<purchase>(text);
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::translation_failed);
        return e.detail();
    }
    return "no error";
}

} // namespace

TEST_CASE("json: decodes nested structs, vectors, optionals, maps and raw members")
{
    const auto p = courier::json_decode<purchase>(R"({
        "id": "p-1", "express": true, "customer": -42, "unknown": [1, 2],
        "items": [{"sku": "a", "quantity": 2, "price": 1.5}, {"sku": "b", "quantity": 1, "price": 3}],
        "tags": {"channel": "web"}, "extra": {"x": [1, {"y": null}]}
    })");
    CHECK(p.id == "p-1");
    CHECK(p.express);
    CHECK(p.customer == -42);
    REQUIRE(p.items.size() == 2);
    CHECK(p.items[1].sku == "b");
    CHECK(p.items[1].price == 3.0);
    CHECK_FALSE(p.note.has_value());
    CHECK(p.tags.at("channel") == "web");
    CHECK(p.extra.text == R"({"x":[1,{"y":null}]})");

    const auto with_note = courier::json_decode<purchase>(
        R"({"id":"p","express":false,"customer":1,"items":[],"note":"hi","tags":{},"extra":0})");
    CHECK(with_note.note == "hi");
}

TEST_CASE("json: errors say where and what was expected")
{
    const std::string base = R"("express":true,"customer":1,"tags":{},"extra":null)";
    CHECK(error_of("{" + base + R"(,"items":[]})") == "$.id: required member is missing");
    CHECK(error_of(R"({"id":5,)" + base + R"(,"items":[]})") == "$.id: expected a string, got an integer");
    CHECK(error_of(R"({"id":"x",)" + base + R"(,"items":[{"sku":"a","quantity":"2","price":1}]})") ==
          "$.items[0].quantity: expected a non-negative integer, got a string");
    CHECK(error_of(R"({"id":"x",)" + base + R"(,"items":[{"sku":"a","quantity":70000,"price":1}]})") ==
          "$.items[0].quantity: integer out of range for the member's type");
    CHECK(error_of(R"({"id":"x",)" + base + R"(,"items":{}})") == "$.items: expected an array, got an object");
    CHECK(error_of(R"([1,2])") == "$: expected an object, got an array");
    CHECK(error_of(R"({"id": "x")").find("body is not valid JSON") == 0);
    CHECK(error_of("\xff\xfe").find("body is not valid JSON") == 0);
    CHECK(error_of("").find("body is not valid JSON") == 0);
}

TEST_CASE("json: the translator reads the message body")
{
    courier::message m;
    m.body = R"({"sku":"z","quantity":3,"price":0.25})";
    const auto item = courier::json<line_item>{}(m);
    CHECK(item.sku == "z");
    CHECK(item.quantity == 3);
}

namespace {

enum class shipping
{
    standard,
    express,
    pickup
};
BOOST_DESCRIBE_ENUM(shipping, standard, express, pickup)

struct parcel
{
    std::string id;
    shipping by = shipping::standard;
    std::optional<shipping> fallback;
    std::vector<shipping> allowed;
};
BOOST_DESCRIBE_STRUCT(parcel, (), (id, by, fallback, allowed))

} // namespace

TEST_CASE("json: a described enum is read from its enumerator's name, and an unknown name lists the allowed ones")
{
    const auto p = courier::json_decode<parcel>(
        R"({"id":"p-1","by":"express","fallback":"pickup","allowed":["standard","pickup"]})");
    CHECK(p.by == shipping::express);
    CHECK(p.fallback == shipping::pickup);
    CHECK(p.allowed == std::vector<shipping>{shipping::standard, shipping::pickup});

    const auto detail_of = [](std::string_view text) {
        try
        {
            courier::json_decode<parcel>(text);
        }
        catch (const courier::error& e)
        {
            CHECK(e.code() == courier::errc::translation_failed);
            return e.detail();
        }
        return std::string("no error");
    };
    CHECK(detail_of(R"({"id":"p-1","by":"drone","allowed":[]})") ==
          "$.by: 'drone' is not one of: standard, express, pickup");
    CHECK(detail_of(R"({"id":"p-1","by":"standard","allowed":["pickup","Express"]})") ==
          "$.allowed[1]: 'Express' is not one of: standard, express, pickup");
    CHECK(courier_test::contains(detail_of(R"({"id":"p-1","by":2,"allowed":[]})"), "$.by: expected a string"));
}

namespace {

struct basket_line
{
    std::string sku;
    int quantity = 0;

    std::string validate() const { return quantity > 0 ? "" : "quantity must be positive"; }
};
BOOST_DESCRIBE_STRUCT(basket_line, (), (sku, quantity))

struct basket
{
    std::vector<basket_line> lines;
    std::optional<std::string> coupon;

    void validate() const
    {
        if (lines.empty())
            throw std::invalid_argument("a basket needs at least one line");
    }
};
BOOST_DESCRIBE_STRUCT(basket, (), (lines, coupon))

struct strict_point
{
    int x = 0;
    int y = 0;
};
BOOST_DESCRIBE_STRUCT(strict_point, (), (x, y))

template <class T> std::string decode_error(std::string_view text)
{
    try
    {
        courier::json_decode<T>(text);
    }
    catch (const courier::error& e)
    {
        CHECK(e.code() == courier::errc::translation_failed);
        return e.detail();
    }
    return "no error";
}

} // namespace

template <> struct courier::json_rules<strict_point>
{
    static constexpr bool reject_unknown_members = true;
};

TEST_CASE("json: validate() turns a struct's own check into a translation error with its path")
{
    CHECK(courier::json_decode<basket>(R"({"lines":[{"sku":"tea","quantity":2}]})").lines.size() == 1);
    // A returned message, on an element of an array: the element's path.
    CHECK(decode_error<basket>(R"({"lines":[{"sku":"tea","quantity":2},{"sku":"jam","quantity":0}]})") ==
          "$.lines[1]: quantity must be positive");
    // A thrown exception, on the root.
    CHECK(decode_error<basket>(R"({"lines":[]})") == "$: a basket needs at least one line");
}

TEST_CASE("json: json_rules rejects unknown members where asked, and only there")
{
    CHECK(courier::json_decode<strict_point>(R"({"x":1,"y":2})").y == 2);
    CHECK(decode_error<strict_point>(R"({"x":1,"y":2,"z":3})") == "$.z: unknown member (known: x, y)");
    // Other types still ignore what they do not know.
    CHECK(courier::json_decode<basket_line>(R"({"sku":"tea","quantity":1,"colour":"red"})").quantity == 1);
}
