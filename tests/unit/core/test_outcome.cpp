// Backoff delays and error descriptions.
#include "test_support.hpp"

using namespace std::chrono_literals;

TEST_CASE("backoff: doubles per delivery and stops at the cap")
{
    const courier::backoff_options fixed{.base = 1s, .max = 1min, .jitter = false};
    CHECK(courier::backoff_delay(fixed, 1) == 1s);
    CHECK(courier::backoff_delay(fixed, 2) == 2s);
    CHECK(courier::backoff_delay(fixed, 5) == 16s);
    CHECK(courier::backoff_delay(fixed, 7) == 1min);
    CHECK(courier::backoff_delay(fixed, 100000) == 1min);
    CHECK(courier::backoff_delay(fixed, 0) == 1s);
}

TEST_CASE("backoff: jitter stays within [d/2, d]")
{
    const courier::backoff_options jittered{.base = 10s, .max = 1h};
    CHECK(courier::backoff_delay(jittered, 3, [] { return 0.0; }) == 20s);
    CHECK(courier::backoff_delay(jittered, 3, [] { return 0.999999; }) < 40s);
    CHECK(courier::backoff_delay(jittered, 3, [] { return 0.999999; }) >= 39s);
    for (int i = 0; i < 1000; ++i)
    {
        const auto d = courier::backoff_delay(jittered, 2);
        CHECK(d >= 10s);
        CHECK(d <= 20s);
    }
}

TEST_CASE("error_text: any exception pointer becomes text")
{
    CHECK(courier::error_text(std::make_exception_ptr(std::runtime_error("boom"))) == "boom");
    CHECK(courier::error_text(std::make_exception_ptr(42)) == "unknown exception");
    CHECK(courier::error_text(nullptr) == "no error");
    const courier::error e(courier::errc::server_error, "DeleteMessageBatch failed",
                           {.action = "DeleteMessageBatch",
                            .queue = "q",
                            .server_code = "Throttling",
                            .server_message = "slow down",
                            .status = 400});
    CHECK(std::string(e.what()) ==
          "DeleteMessageBatch failed [action=DeleteMessageBatch queue=q status=400 server=Throttling: slow down]");
}

TEST_CASE("is_translation_error: only translation failures")
{
    CHECK(courier::is_translation_error(std::make_exception_ptr(
        courier::error(courier::errc::translation_failed, "$.id: required member is missing"))));
    CHECK_FALSE(
        courier::is_translation_error(std::make_exception_ptr(courier::error(courier::errc::server_error, "boom"))));
    CHECK_FALSE(courier::is_translation_error(std::make_exception_ptr(std::runtime_error("x"))));
    CHECK_FALSE(courier::is_translation_error(nullptr));
}
