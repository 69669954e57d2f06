// Results and result lists: Ok and Error, typed values, the empty list.
#include "collector_support.hpp"

using namespace courier_test;

TEST_CASE("collector result: ok carries a typed value, error an exception")
{
    const auto r = ec::ok(21.5);
    CHECK(r.is_ok());
    CHECK_FALSE(r.is_error());
    CHECK(r.has_value());
    CHECK(r.value<double>() == 21.5);
    CHECK(r.error_message().empty());

    const auto text = ec::ok("line 3");
    CHECK(text.value<std::string>() == "line 3"); // a literal is kept as a std::string

    const auto nothing = ec::ok();
    CHECK(nothing.is_ok());
    CHECK_FALSE(nothing.has_value());

    const auto e = ec::error(std::runtime_error("disk full"));
    CHECK(e.is_error());
    CHECK_FALSE(e.has_value());
    CHECK(e.error_message() == "disk full");
    CHECK_THROWS_WITH_AS(e.rethrow_if_error(), "disk full", std::runtime_error);
    CHECK_THROWS_WITH_AS(e.value<double>(), "disk full", std::runtime_error); // the Error itself
}

TEST_CASE("collector result: asking for the wrong type names both types and the collector")
{
    auto r = ec::ok(42);
    r.set_key("counter");
    const auto err = error_from([&] { (void)r.value<std::string>(); });
    CHECK(err.code() == ec::errc::bad_value);
    CHECK(contains(err.what(), "collector 'counter' holds int, not a std::"));
}

TEST_CASE("collector result: an Error without exception still carries one")
{
    const auto r = ec::error(std::exception_ptr());
    REQUIRE(r.is_error());
    CHECK(contains(r.error_message(), "without exception"));
}

TEST_CASE("collector result list: order, first, all_ok, errors, find")
{
    auto a = ec::ok(1);
    a.set_key("a");
    auto b = ec::error(std::runtime_error("b failed"));
    b.set_key("b");
    auto c = ec::ok(3);
    c.set_key("c");
    const ec::result_list list({a, b, c});
    CHECK(list.size() == 3);
    CHECK(keys_of(list) == std::vector<std::string>{"a", "b", "c"});
    CHECK(list.first().key() == "a");
    CHECK_FALSE(list.all_ok());
    const auto errors = list.errors();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].key() == "b");
    REQUIRE(list.find("c") != nullptr);
    CHECK(list.find("c")->value<int>() == 3);
    CHECK(list.find("d") == nullptr);

    // Copies share the results.
    const auto copy = list;
    CHECK(&copy[0] == &list[0]);
}

TEST_CASE("collector result list: empty is a success whose first() is an Ok without value")
{
    const ec::result_list empty;
    CHECK(empty.empty());
    CHECK(empty.all_ok());
    CHECK(empty.first().is_ok());
    CHECK_FALSE(empty.first().has_value());
    CHECK(empty.first().key().empty());
    CHECK(empty.begin() == empty.end());
}
