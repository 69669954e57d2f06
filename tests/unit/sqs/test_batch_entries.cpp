// Tests of the per-entry bookkeeping of SQS batch requests (src/sqs/batch_entries.hpp), as
// tables: for each case, the answers the server gives request after request, and what must
// become of each entry (S succeeded, F failed with the server's answer for it, M failed as
// missing from the answer, R failed with the whole request), with the entries each next
// request carries and the pause before it. No I/O: a scripted random source makes every pause
// exact.
#include "sqs/batch_entries.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using courier::sqs::batch_entries;
using courier::sqs::batch_failure;
using courier::sqs::batch_result;
using courier::sqs::entry_state;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

batch_failure failed(std::string id, std::string code, bool sender_fault)
{
    return {.id = std::move(id), .code = std::move(code), .message = "said the server", .sender_fault = sender_fault};
}

batch_result answer(std::vector<std::string> successful, std::vector<batch_failure> failures = {})
{
    return {.successful = std::move(successful), .failed = std::move(failures)};
}

// The entries' outcomes as one letter each.
std::string letters(const batch_entries& book)
{
    std::string out;
    for (const auto& o : book.outcomes())
    {
        if (o.state == entry_state::succeeded)
            out += 'S';
        else if (o.state == entry_state::pending)
            out += 'P';
        else if (o.missing)
            out += 'M';
        else
            out += o.failure.id.empty() ? 'R' : 'F';
    }
    return out;
}

// Retries 1 s, 2 s, 4 s ... at the ceiling (random 1.0 is clamped to just that), 3 attempts.
courier::http::retry_policy policy(unsigned max_attempts = 3)
{
    return courier::http::retry_policy({.max_attempts = max_attempts}, [] { return 1.0; });
}

struct round
{
    batch_result answer;
    std::vector<std::size_t> pending_after; ///< what the next request carries
    milliseconds pause;                     ///< before it
};

struct table_case
{
    const char* name;
    std::size_t entries;
    std::vector<round> rounds;
    std::string outcomes;
};

} // namespace

TEST_CASE("batch entries: each entry's outcome, request after request")
{
    const std::vector<table_case> cases = {
        {"all succeed", 3, {{answer({"0", "1", "2"}), {}, 0ms}}, "SSS"},
        {"the answer lists them in any order", 3, {{answer({"2", "0", "1"}), {}, 0ms}}, "SSS"},
        {"an entry listed nowhere failed, the others are done", 3, {{answer({"0", "2"}), {}, 0ms}}, "SMS"},
        {"an empty answer fails every entry", 2, {{answer({}), {}, 0ms}}, "MM"},
        {"a sender fault is final at once",
         2,
         {{answer({"0"}, {failed("1", "ReceiptHandleIsInvalid", true)}), {}, 0ms}},
         "SF"},
        {"the server's failure is sent again, after the backoff, with Ids renumbered",
         3,
         {{answer({"0"}, {failed("1", "InternalError", false), failed("2", "InternalError", false)}), {1, 2}, 1000ms},
          {answer({"0", "1"}), {}, 0ms}},
         "SSS"},
        {"the second retry waits twice as long, the third attempt is the last",
         2,
         {{answer({"0"}, {failed("1", "InternalError", false)}), {1}, 1000ms},
          {answer({}, {failed("0", "InternalError", false)}), {1}, 2000ms},
          {answer({}, {failed("0", "InternalError", false)}), {}, 0ms}},
         "SF"},
        {"throttling waits the throttling backoff (same base by default) and is retried",
         1,
         {{answer({}, {failed("0", "RequestThrottled", false)}), {0}, 1000ms}, {answer({"0"}), {}, 0ms}},
         "S"},
        {"a retried entry that the next answer leaves out failed",
         2,
         {{answer({"1"}, {failed("0", "InternalError", false)}), {0}, 1000ms}, {answer({}), {}, 0ms}},
         "MS"},
        {"a retried entry may then fail for good",
         2,
         {{answer({}, {failed("0", "InternalError", false), failed("1", "InternalError", false)}), {0, 1}, 1000ms},
          {answer({"1"}, {failed("0", "ReceiptHandleIsInvalid", true)}), {}, 0ms}},
         "FS"},
        {"ten entries, mixed",
         10,
         {{answer({"0", "2", "4", "6", "8"},
                  {failed("1", "InternalError", false), failed("3", "ReceiptHandleIsInvalid", true),
                   failed("5", "ServiceUnavailable", false)}),
           {1, 5},
           1000ms},
          {answer({"0"}, {failed("1", "InternalError", false)}), {5}, 2000ms},
          {answer({"0"}), {}, 0ms}},
         "SSSFSSSMSM"},
    };
    for (const auto& c : cases)
    {
        CAPTURE(c.name);
        auto retries = policy();
        batch_entries book(c.entries, retries, "DeleteMessageBatch", "q");
        CHECK(book.pending().size() == c.entries);
        for (std::size_t r = 0; r < c.rounds.size(); ++r)
        {
            CAPTURE(r);
            REQUIRE_FALSE(book.pending().empty());
            const auto pause = book.record(c.rounds[r].answer);
            CHECK(book.pending() == c.rounds[r].pending_after);
            CHECK(pause == c.rounds[r].pause);
        }
        CHECK(book.pending().empty());
        CHECK(letters(book) == c.outcomes);
    }
}

TEST_CASE("batch entries: a failed entry keeps the server's answer for it")
{
    auto retries = policy();
    batch_entries book(2, retries, "ChangeMessageVisibilityBatch", "q");
    book.record(answer({"0"}, {failed("1", "ReceiptHandleIsInvalid", true)}));
    const auto& f = book.outcomes()[1].failure;
    CHECK(f.code == "ReceiptHandleIsInvalid");
    CHECK(f.message == "said the server");
    CHECK(f.sender_fault);
}

TEST_CASE("batch entries: an answer naming an Id that was not sent, or twice, records nothing")
{
    struct bad
    {
        batch_result answer;
        const char* expected;
    };
    const std::vector<bad> cases = {
        {answer({"3"}), "Successful entry Id \"3\" was not in the request"},
        {answer({"0", "1", "x"}), "Successful entry Id \"x\" was not in the request"},
        {answer({""}), "Successful entry Id \"\" was not in the request"},
        {answer({"-1"}), "Successful entry Id \"-1\" was not in the request"},
        {answer({"01x"}), "Successful entry Id \"01x\" was not in the request"},
        {answer({}, {failed("receipt-1", "X", true)}), "Failed entry Id \"receipt-1\" was not in the request"},
        {answer({}, {failed("99999999999999999999999", "X", true)}),
         "Failed entry Id \"99999999999999999999999\" was not in the request"},
        {answer({}, {failed(std::string(100, 'a') + '\n', "X", true)}),
         "Failed entry Id \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""},
        {answer({"1", "1"}), "entry Id \"1\" appears twice in the answer"},
        {answer({"0"}, {failed("0", "InternalError", false)}), "entry Id \"0\" appears twice in the answer"},
    };
    for (const auto& c : cases)
    {
        CAPTURE(c.expected);
        auto retries = policy();
        batch_entries book(3, retries, "DeleteMessageBatch", "https://q");
        const auto e = courier_test::error_from([&] { book.record(c.answer); });
        CHECK(e.code() == courier::errc::bad_response);
        CHECK_MESSAGE(courier_test::contains(e.detail(), c.expected), e.detail());
        CHECK(e.context().action == "DeleteMessageBatch");
        CHECK(e.context().queue == "https://q");
        CHECK(letters(book) == "PPP");
        CHECK(book.pending().size() == 3);
        book.fail_pending();
        CHECK(letters(book) == "RRR");
        CHECK(book.pending().empty());
    }
}

TEST_CASE("batch entries: a failure after a retry fails only the entries that request carried")
{
    auto retries = policy();
    batch_entries book(3, retries, "DeleteMessageBatch", "q");
    CHECK(book.record(answer({"0", "2"}, {failed("1", "InternalError", false)})) == 1000ms);
    book.fail_pending();
    CHECK(letters(book) == "SRS");
}

TEST_CASE("batch entries: retries follow the retry policy's attempt limit and quota")
{
    SUBCASE("one attempt: no retry")
    {
        auto retries = policy(1);
        batch_entries book(1, retries, "DeleteMessageBatch", "q");
        CHECK(book.record(answer({}, {failed("0", "InternalError", false)})) == 0ms);
        CHECK(letters(book) == "F");
    }
    SUBCASE("an empty quota: no retry")
    {
        courier::http::retry_policy retries({.quota_capacity = 4}, [] { return 1.0; });
        batch_entries book(1, retries, "DeleteMessageBatch", "q");
        CHECK(book.record(answer({}, {failed("0", "InternalError", false)})) == 0ms);
        CHECK(letters(book) == "F");
    }
    SUBCASE("a retry takes its tokens, a success after it gives them back")
    {
        auto retries = policy();
        batch_entries book(2, retries, "DeleteMessageBatch", "q");
        book.record(answer({"1"}, {failed("0", "InternalError", false)}));
        CHECK(retries.available_tokens() == 495);
        book.record(answer({"0"}));
        CHECK(retries.available_tokens() == 500);
    }
}
