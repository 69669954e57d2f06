// Fuzz target: the SNS notification envelope translator (src/sns/envelope.cpp), which reads
// the body of every message a topic delivers to a queue: entirely outside data.
//
// Contract: the input becomes a message, or `courier::error` with `errc::translation_failed`.
#include <courier/error.hpp>
#include <courier/message.hpp>
#include <courier/sns.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    courier::message delivery;
    delivery.id = "m-1";
    delivery.receipt = "r-1";
    delivery.body.assign(reinterpret_cast<const char*>(data), size);
    try
    {
        const auto m = courier::sns_envelope{}(delivery);
        // The SQS delivery's identity survives; only what the envelope says is replaced.
        if (m.id != "m-1" || m.receipt != "r-1")
            std::abort();
    }
    catch (const courier::error& e)
    {
        if (e.code() != courier::errc::translation_failed)
            std::abort();
    }
    return 0;
}
