// Tests of what AWS error answers mean, without I/O (src/aws/error_codes.hpp,
// service_error.hpp, clock_skew.hpp): which answers refuse credentials or the request time,
// the standard retry mode's classification shared by SQS and SNS, HTTP dates, and the
// signing-clock correction.
#include "aws/clock_skew.hpp"
#include "aws/error_codes.hpp"
#include "aws/service_error.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace aws = courier::aws;
using aws::auth_refusal;
using namespace std::chrono_literals;
using std::chrono::system_clock;

TEST_CASE("aws errors: answers that refuse the credentials or the request time")
{
    struct case_
    {
        const char* code;
        const char* message;
        auth_refusal expected;
    };
    const std::vector<case_> cases = {
        {"ExpiredToken", "The security token included in the request is expired", auth_refusal::expired_credentials},
        {"ExpiredTokenException", "", auth_refusal::expired_credentials},
        {"InvalidClientTokenId", "The security token included in the request is invalid.",
         auth_refusal::invalid_credentials},
        {"UnrecognizedClientException", "", auth_refusal::invalid_credentials},
        {"RequestTimeTooSkewed", "", auth_refusal::clock_skew},
        {"RequestInTheFuture", "", auth_refusal::clock_skew},
        {"RequestExpired", "Request has expired.", auth_refusal::clock_skew},
        {"SignatureDoesNotMatch",
         "Signature expired: 20240101T000000Z is now earlier than 20240101T005500Z (20240101T010000Z - 5 min.)",
         auth_refusal::clock_skew},
        {"InvalidSignatureException", "Signature not yet current: 20240101T010000Z is still later than ...",
         auth_refusal::clock_skew},
        {"AuthFailure", "the request time is TOO SKEWED", auth_refusal::clock_skew},
        {"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.",
         auth_refusal::none},
        {"InvalidSignatureException", "", auth_refusal::none},
        {"AccessDenied", "Signature expired", auth_refusal::none},
        {"ThrottlingException", "", auth_refusal::none},
        {"", "", auth_refusal::none},
        {"expiredtoken", "", auth_refusal::none}, // codes are case-sensitive, as AWS sends them
    };
    for (const auto& c : cases)
    {
        CAPTURE(c.code);
        CAPTURE(c.message);
        CHECK(aws::classify_auth_refusal(c.code, c.message) == c.expected);
    }
}

TEST_CASE("aws errors: the standard retry mode's reading of an answer")
{
    struct case_
    {
        int status;
        const char* fault;
        std::string_view code, query_code, query_tail;
        bool sender_fault, retryable, throttling;
    };
    const std::vector<case_> cases = {
        {400, "", "InvalidParameterValue", "", "", true, false, false},
        {400, "Receiver", "InvalidParameterValue", "", "", false, false, false},
        {500, "Sender", "", "", "", true, true, false},
        {500, "", "", "", "", false, true, false},
        {503, "", "", "", "", false, true, false},
        {501, "", "", "", "", false, false, false},
        {429, "", "", "", "", true, true, true},
        {400, "", "", "AWS.SimpleQueueService.RequestThrottled", "RequestThrottled", true, true, true},
        {400, "", "ThrottlingException", "", "", true, true, true},
        {400, "", "InternalError", "", "", true, true, false},
        {400, "", "Throttled", "", "", true, false, false}, // SNS's own code: only with the extra list
    };
    for (const auto& c : cases)
    {
        CAPTURE(c.status);
        CAPTURE(c.code);
        const auto kind = aws::classify_answer(c.status, c.fault, {c.code, c.query_code, c.query_tail});
        CHECK(kind.sender_fault == c.sender_fault);
        CHECK(kind.retryable == c.retryable);
        CHECK(kind.throttling == c.throttling);
    }
    const auto sns = aws::classify_answer(400, "Sender", {"Throttled"}, {"Throttled", "KMSThrottling"});
    CHECK(sns.throttling);
    CHECK(sns.retryable);
}

TEST_CASE("aws errors: the courier::error of an answer")
{
    const auto throttled =
        aws::make_service_error({.service = "SNS",
                                 .code = "Throttled",
                                 .message = "slow down",
                                 .http_status = 400,
                                 .kind = {.sender_fault = true, .retryable = true, .throttling = true}},
                                "Publish", "arn:topic");
    CHECK(throttled.code() == courier::errc::throttled);
    CHECK(std::string(throttled.detail()) == "SNS throttled the request");
    CHECK(throttled.context().action == "Publish");
    CHECK(throttled.context().queue == "arn:topic");
    CHECK(throttled.context().server_code == "Throttled");
    CHECK(throttled.context().server_message == "slow down");
    CHECK(throttled.context().status == 400);
    const auto texts = std::vector<std::pair<aws::answer_class, const char*>>{
        {{.sender_fault = false, .retryable = true, .throttling = false},
         "SQS failed the request (transient, retryable)"},
        {{.sender_fault = true, .retryable = false, .throttling = false}, "SQS rejected the request"},
        {{.sender_fault = false, .retryable = false, .throttling = false}, "SQS failed the request"},
    };
    for (const auto& [kind, text] : texts)
    {
        const auto e = aws::make_service_error(
            {.service = "SQS", .code = "X", .message = "", .http_status = 500, .kind = kind}, "ReceiveMessage", "q");
        CHECK(e.code() == courier::errc::server_error);
        CHECK(std::string(e.detail()) == text);
    }
}

TEST_CASE("aws errors: HTTP dates in the preferred form, and nothing else")
{
    const auto t = aws::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
    REQUIRE(t);
    CHECK(*t == system_clock::from_time_t(784111777));
    CHECK(aws::parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT") == system_clock::from_time_t(1709251199));
    CHECK(aws::parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == system_clock::from_time_t(1483228799));
    for (const char* bad :
         {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "Xyz, 06 Nov 1994 08:49:37 GMT",
          "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 30 Feb 2024 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
          "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 19x4 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:+7 GMT"})
    {
        CAPTURE(bad);
        CHECK_FALSE(aws::parse_http_date(bad));
    }
}

TEST_CASE("aws errors: the signing clock takes the server's time from a skew answer")
{
    aws::clock_skew skew;
    const auto local = system_clock::from_time_t(1700000000) + 250ms;
    CHECK(skew.signing_time(local) == local);
    CHECK_FALSE(skew.correct("", local));
    CHECK_FALSE(skew.correct("yesterday", local));
    CHECK(skew.offset() == 0s);
    // The server is an hour and a bit ahead: later signatures carry its time (to the second).
    REQUIRE(skew.correct("Tue, 14 Nov 2023 23:13:25 GMT", local)); // 1700000000 + 3605 s
    CHECK(skew.offset() == 3604s);
    CHECK(skew.signing_time(local) == system_clock::from_time_t(1700003604) + 250ms);
    // And behind, after another answer: the last one counts.
    REQUIRE(skew.correct("Tue, 14 Nov 2023 21:13:20 GMT", local)); // 1700000000 - 3600 s
    CHECK(skew.offset() == -3600s);
}
