// The settlement table (see settlement_plan.hpp).
#include "core/settlement_plan.hpp"

namespace courier::detail {

namespace {

// A redelivery `delay` from now, for a message that ends as `outcome`.
settlement_plan redeliver_after(settlement outcome, std::chrono::milliseconds delay, stop_state stop,
                                settlement_capabilities provider)
{
    if (provider.delayed_retry)
        return {outcome, provider_step::retry, delay};
    if (delay <= std::chrono::milliseconds::zero() || stop.stopping)
        return {outcome, provider_step::release, {}};
    return {outcome, provider_step::hold_then_release, delay};
}

} // namespace

settlement_plan plan_settlement(const handling_result& result, stop_state stop, settlement_capabilities provider,
                                std::chrono::milliseconds leave_delay) noexcept
{
    switch (result.what)
    {
    case handling_result::succeeded:
    case handling_result::deleted: return {settlement::ack, provider_step::ack, {}};
    case handling_result::retry_requested: return redeliver_after(settlement::retry, result.delay, stop, provider);
    case handling_result::failed:
        switch (result.action.what)
        {
        case settlement::ack: return {settlement::ack, provider_step::ack, {}};
        case settlement::retry: return redeliver_after(settlement::retry, result.action.delay, stop, provider);
        case settlement::release: return {settlement::release, provider_step::release, {}};
        case settlement::leave:
            if (provider.visibility)
                return {settlement::leave, provider_step::leave, {}};
            // Without a visibility timeout nothing would bring it back: redeliver it after the
            // time a timeout would have taken.
            return redeliver_after(settlement::leave, leave_delay, stop, provider);
        }
        break;
    case handling_result::cancelled:
    case handling_result::not_started: break;
    }
    return {settlement::release, provider_step::release, {}};
}

} // namespace courier::detail
