// Correlation-id propagation (see events/correlation.hpp).
#include <courier/error.hpp>
#include <courier/events/correlation.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <random>

namespace courier {

std::string_view correlation_id_of(const context& ctx) noexcept
{
    const auto* id = ctx.find_value<correlation_id>();
    return id == nullptr ? std::string_view{} : std::string_view(id->value);
}

correlation_id_pipeline::correlation_id_pipeline(std::string header)
    : header_(std::move(header))
{
    if (header_.empty())
        throw error(errc::bad_configuration, "correlation_id_pipeline: the header name must not be empty");
}

void correlation_id_pipeline::on_send(outgoing_envelope& envelope, const event_descriptor&, const context* cause)
{
    if (envelope.header(header_) != nullptr)
        return;
    const std::string_view inherited = cause == nullptr ? std::string_view{} : correlation_id_of(*cause);
    envelope.set_header(header_, inherited.empty() ? new_id() : std::string(inherited));
}

void correlation_id_pipeline::on_handle(const incoming_envelope& envelope, const listener_descriptor&, context& ctx)
{
    // Every listener of a message sees one id, read (or made) before the first.
    if (ctx.find_value<correlation_id>() != nullptr)
        return;
    const std::string* carried = envelope.header(header_);
    ctx.values().emplace<correlation_id>(carried != nullptr && !carried->empty() ? *carried : new_id());
}

std::string correlation_id_pipeline::new_id()
{
    // Not for secrets: a per-thread generator seeded once from the system's entropy.
    thread_local std::mt19937_64 random{std::random_device{}()};
    const std::uint64_t high = (random() & 0xffff'ffff'ffff'0fffULL) | 0x0000'0000'0000'4000ULL; // version 4
    const std::uint64_t low = (random() & 0x3fff'ffff'ffff'ffffULL) | 0x8000'0000'0000'0000ULL;  // variant 1
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff,
                       low >> 48, low & 0xffff'ffff'ffffULL);
}

} // namespace courier
