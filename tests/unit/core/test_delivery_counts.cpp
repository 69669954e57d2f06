// Delivery counts for providers that do not count: by id, from the redelivered flag, with
// bounded memory.
#include "core/delivery_counts.hpp"

#include <doctest/doctest.h>

using courier::message;
using courier::redelivery_info;
using courier::detail::delivery_counts;

TEST_CASE("delivery counts: exact counts are the provider's")
{
    delivery_counts counts(10);
    message m{.id = "a", .receive_count = 7};
    counts.count(m, redelivery_info::exact_count);
    CHECK(m.receive_count == 7);
    CHECK(m.redelivered);
    CHECK(counts.size() == 0);
}

TEST_CASE("delivery counts: without information, the route counts the ids it saw")
{
    delivery_counts counts(10);
    for (std::uint32_t n = 1; n <= 3; ++n)
    {
        message m{.id = "a"};
        counts.count(m, redelivery_info::none);
        CHECK(m.receive_count == n);
        CHECK(m.redelivered == (n > 1));
    }
    message other{.id = "b"};
    counts.count(other, redelivery_info::none);
    CHECK(other.receive_count == 1);
}

TEST_CASE("delivery counts: a redelivered flag means at least the second delivery; no flag starts over")
{
    delivery_counts counts(10);
    message first_seen_redelivered{.id = "a", .redelivered = true};
    counts.count(first_seen_redelivered, redelivery_info::flag);
    CHECK(first_seen_redelivered.receive_count == 2); // another consumer had it before
    message again{.id = "a", .redelivered = true};
    counts.count(again, redelivery_info::flag);
    CHECK(again.receive_count == 3);
    message fresh{.id = "a", .redelivered = false}; // the broker says: first delivery
    counts.count(fresh, redelivery_info::flag);
    CHECK(fresh.receive_count == 1);
    CHECK(counts.size() == 0); // a first delivery is not stored, and resets what was
    message redelivered{.id = "a", .redelivered = true};
    counts.count(redelivered, redelivery_info::flag);
    CHECK(redelivered.receive_count == 2); // counted from the fresh copy, not from before it
}

TEST_CASE("delivery counts: only the most recently seen ids are remembered")
{
    delivery_counts counts(2);
    auto deliver = [&](const char* id) {
        message m{.id = id};
        counts.count(m, redelivery_info::none);
        return m.receive_count;
    };
    CHECK(deliver("a") == 1);
    CHECK(deliver("b") == 1);
    CHECK(deliver("a") == 2); // a is now the most recent
    CHECK(deliver("c") == 1); // b is forgotten
    CHECK(counts.size() == 2);
    CHECK(deliver("b") == 1);
    CHECK(deliver("a") == 1); // forgotten when b came back
}

TEST_CASE("delivery counts: with a flag, the provider's own count is a lower bound")
{
    // A broker provider counts what its retries copied (x-courier-deliveries): the third copy
    // of a message, delivered for the first time, counts 3; redelivered, at least 4.
    delivery_counts counts(10);
    message copy{.id = "a", .receive_count = 3};
    counts.count(copy, redelivery_info::flag);
    CHECK(copy.receive_count == 3);
    CHECK(copy.redelivered);
    message again{.id = "a", .receive_count = 4, .redelivered = true};
    counts.count(again, redelivery_info::flag);
    CHECK(again.receive_count == 4);
    message once_more{.id = "a", .receive_count = 4, .redelivered = true};
    counts.count(once_more, redelivery_info::flag);
    CHECK(once_more.receive_count == 5); // the route saw it twice since: its own count wins
    // Without a flag the provider knows nothing: its field is ignored.
    message none{.id = "b", .receive_count = 9};
    counts.count(none, redelivery_info::none);
    CHECK(none.receive_count == 1);
}
