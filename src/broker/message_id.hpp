// Message ids courier assigns to what it publishes to a broker: 128 random bits as a UUID
// (version 4), so that a message keeps one id across redeliveries and transports.
#ifndef COURIER_SRC_BROKER_MESSAGE_ID_HPP
#define COURIER_SRC_BROKER_MESSAGE_ID_HPP

#include <cstdint>
#include <random>
#include <string>

namespace courier::broker {

inline std::string new_message_id()
{
    thread_local std::mt19937_64 random(std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32));
    const std::uint64_t hi = (random() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    const std::uint64_t lo = (random() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 32; ++i)
    {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out += '-';
        const std::uint64_t word = i < 16 ? hi : lo;
        out += digits[(word >> (60 - 4 * (i % 16))) & 15];
    }
    return out;
}

} // namespace courier::broker

#endif
