// FIFO group ordering without I/O: one running message per group, the next only after an
// acknowledgement, and the waiting ones handed back when the running one ends otherwise.
#include "core/fifo_groups.hpp"

#include <doctest/doctest.h>

#include <deque>

using courier::detail::fifo_groups;

TEST_CASE("fifo groups: one message of a group runs; the next starts only after an ack")
{
    fifo_groups<int> groups;
    CHECK(groups.admit("a", 1));
    CHECK_FALSE(groups.admit("a", 2));
    CHECK_FALSE(groups.admit("a", 3));
    CHECK(groups.admit("b", 10)); // other groups are not held up
    CHECK(groups.groups() == 2);

    CHECK(groups.acknowledged("a") == 2);
    CHECK(groups.acknowledged("a") == 3);
    CHECK_FALSE(groups.acknowledged("a").has_value()); // the group is done
    CHECK(groups.groups() == 1);
    CHECK(groups.admit("a", 4)); // a new message of it runs at once
}

TEST_CASE("fifo groups: a failure hands the waiting messages back, in order, and frees the group")
{
    fifo_groups<int> groups;
    CHECK(groups.admit("a", 1));
    CHECK_FALSE(groups.admit("a", 2));
    CHECK_FALSE(groups.admit("a", 3));
    CHECK(groups.admit("b", 10));
    CHECK_FALSE(groups.admit("b", 11));

    CHECK(groups.broken("a") == std::deque<int>{2, 3});
    CHECK(groups.groups() == 1);
    CHECK(groups.broken("a").empty());     // nothing left of it
    CHECK(groups.acknowledged("b") == 11); // b goes on
    CHECK(groups.broken("b").empty());
    CHECK(groups.groups() == 0);
}
