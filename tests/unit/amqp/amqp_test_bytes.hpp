// Bytes from hex text for the AMQP tests: "01 0001 ce" -> {0x01, 0x00, 0x01, 0xce}.
// Spaces are for the reader (they group a frame's fields as the specification lists them).
#ifndef COURIER_TESTS_UNIT_AMQP_TEST_BYTES_HPP
#define COURIER_TESTS_UNIT_AMQP_TEST_BYTES_HPP

#include <stdexcept>
#include <string>
#include <string_view>

namespace courier_test {

inline std::string hex(std::string_view text)
{
    std::string out;
    int high = -1;
    for (char c : text)
    {
        if (c == ' ' || c == '\n')
            continue;
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0)
            throw std::invalid_argument("hex: bad digit");
        if (high < 0)
            high = v;
        else
        {
            out += static_cast<char>(high << 4 | v);
            high = -1;
        }
    }
    if (high >= 0)
        throw std::invalid_argument("hex: odd number of digits");
    return out;
}

} // namespace courier_test

#endif
