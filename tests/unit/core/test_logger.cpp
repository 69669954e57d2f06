// The logger: thresholds, what reaches the sink, and the default line format.
#include "test_support.hpp"

#include <cstdio>
#include <regex>

TEST_CASE("logger: records below the threshold are not formatted or delivered")
{
    courier_test::log_capture capture;
    const auto log = capture.make(courier::log_level::info);
    log.log(courier::log_level::debug, "r", "m", "hidden {}", 1);
    log.log(courier::log_level::warning, "orders", "id-7", "shown {} {}", 2, "x");
    CHECK(capture.lines() == std::vector<std::string>{"WARN [orders] id-7 shown 2 x"});
    CHECK_FALSE(log.enabled(courier::log_level::trace));
    const courier::logger off(courier::log_level::off);
    CHECK_FALSE(off.enabled(courier::log_level::error));
}

TEST_CASE("logger: the default sink writes one timestamped line with route and id")
{
    std::FILE* tmp = std::tmpfile();
    REQUIRE(tmp);
    std::FILE* saved = stderr;
    stderr = tmp; // glibc allows reassigning the stream pointer
    courier::logger(courier::log_level::info).log(courier::log_level::info, "orders", "m-1", "acked in {} ms", 3);
    stderr = saved;
    std::rewind(tmp);
    char buffer[256] = {};
    const auto n = std::fread(buffer, 1, sizeof buffer - 1, tmp);
    std::fclose(tmp);
    const std::string line(buffer, n);
    CHECK(std::regex_match(
        line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[orders\] id=m-1 acked in 3 ms\n)")));
}
