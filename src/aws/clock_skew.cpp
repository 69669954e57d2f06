// HTTP dates and the signing-clock offset (see clock_skew.hpp).
#include "aws/clock_skew.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace courier::aws {

namespace {

// Reads exactly `digits` decimal digits at `text[at]`.
bool read_number(std::string_view text, std::size_t at, std::size_t digits, int& out) noexcept
{
    if (at + digits > text.size())
        return false;
    const char* first = text.data() + at;
    const auto [end, ec] = std::from_chars(first, first + digits, out);
    return ec == std::errc() && end == first + digits;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) noexcept
{
    // "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions, 29 characters.
    constexpr std::array<std::string_view, 7> days = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
        text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
        return std::nullopt;
    bool day_name = false;
    for (const auto d : days)
        day_name = day_name || text.substr(0, 3) == d;
    unsigned month = 0;
    for (unsigned m = 0; m < months.size(); ++m)
        if (text.substr(8, 3) == months[m])
            month = m + 1;
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    if (!day_name || month == 0 || !read_number(text, 5, 2, day) || !read_number(text, 12, 4, year) ||
        !read_number(text, 17, 2, hour) || !read_number(text, 20, 2, minute) || !read_number(text, 23, 2, second))
        return std::nullopt;
    // 60 is a leap second, which system_clock does not count.
    if (hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok())
        return std::nullopt;
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(std::min(second, 59));
}

bool clock_skew::correct(std::string_view date_header, time_point local) noexcept
{
    const auto server = parse_http_date(date_header);
    if (!server)
        return false;
    // The Date header has whole seconds; so does the signature's time, and a difference under
    // a second is far within what AWS tolerates (5 minutes).
    offset_ = std::chrono::duration_cast<std::chrono::seconds>(*server - local);
    return true;
}

} // namespace courier::aws
