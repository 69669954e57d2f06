// A collector's context: values keyed by type.
#include "collector_support.hpp"

using namespace courier_test;

namespace {

struct repository
{
    explicit repository(std::string n)
        : name(std::move(n))
    {
    }
    std::string name;
    int writes = 0;
};
struct config_value
{
    std::string text;
};

} // namespace

TEST_CASE("collector context: values by type, replaced, erased; a missing one is a clear error")
{
    ec::context ctx;
    CHECK(ctx.find<repository>() == nullptr);
    auto& repo = ctx.emplace<repository>("sensors");
    ctx.emplace<config_value>(config_value{"42"});
    CHECK(ctx.size() == 2);
    CHECK(&ctx.get<repository>() == &repo); // stable while others are added
    ctx.get<repository>().writes++;
    CHECK(repo.writes == 1);
    CHECK(ctx.get<config_value>().text == "42");
    CHECK(ctx.contains<config_value>());

    ctx.emplace<repository>("other"); // replaces
    CHECK(ctx.size() == 2);
    CHECK(ctx.get<repository>().name == "other");

    CHECK(ctx.erase<config_value>());
    CHECK_FALSE(ctx.erase<config_value>());
    const auto err = error_from([&] { (void)ctx.get<config_value>(); });
    CHECK(err.code() == ec::errc::bad_value);
    CHECK(contains(err.what(), "holds no "));
    CHECK(contains(err.what(), "config_value"));
}

TEST_CASE("collector context: copies of a collector share it; a prepared one is used as is")
{
    auto prepared = std::make_shared<ec::context>();
    prepared->emplace<config_value>(config_value{"from env"});
    ec::collector<int> c("k",
                         [](const ec::payload<int>&, ec::context& ctx) -> asio::awaitable<ec::result> {
                             co_return ec::ok(ctx.get<config_value>().text);
                         },
                         {.context = prepared});
    const auto copy = c;
    CHECK(&copy.context() == prepared.get());
    CHECK(&c.context() == prepared.get());

    ec::collector<int> fresh("f", [](const ec::payload<int>&) -> asio::awaitable<ec::result> { co_return ec::ok(); });
    CHECK(fresh.context().size() == 0);
}
