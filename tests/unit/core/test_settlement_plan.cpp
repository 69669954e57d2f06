// The settlement table: every way handling can end, with and without a stop, on providers
// with and without a visibility timeout and delayed redelivery. No I/O.
#include "core/settlement_plan.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace std::chrono_literals;
using courier::error_action;
using courier::settlement;
using courier::detail::handling_result;
using courier::detail::plan_settlement;
using courier::detail::provider_step;
using courier::detail::settlement_capabilities;
using courier::detail::settlement_plan;
using courier::detail::stop_state;

namespace {

constexpr settlement_capabilities sqs_like{.visibility = true, .delayed_retry = true};
constexpr settlement_capabilities broker_like{.visibility = false, .delayed_retry = false};
constexpr settlement_capabilities retry_queue_broker{.visibility = false, .delayed_retry = true};
constexpr stop_state running{};
constexpr stop_state stopping{.stopping = true};
constexpr stop_state forced{.stopping = true, .terminal = true};
constexpr auto leave_delay = 30s;

handling_result failed_with(error_action a)
{
    return {handling_result::failed, a, {}};
}

struct row
{
    const char* what;
    handling_result result;
    stop_state stop;
    settlement_capabilities provider;
    settlement_plan expected;
};

} // namespace

TEST_CASE("settlement plan: the table")
{
    const row rows[] = {
        // Success acks, whatever the stop state or the provider.
        {"success", {handling_result::succeeded}, running, sqs_like, {settlement::ack, provider_step::ack}},
        {"success while stopping",
         {handling_result::succeeded},
         stopping,
         broker_like,
         {settlement::ack, provider_step::ack}},
        {"success at a forced stop",
         {handling_result::succeeded},
         forced,
         sqs_like,
         {settlement::ack, provider_step::ack}},
        {"delete_message", {handling_result::deleted}, running, broker_like, {settlement::ack, provider_step::ack}},
        {"error handler acks",
         failed_with(error_action::ack()),
         running,
         broker_like,
         {settlement::ack, provider_step::ack}},

        // A retry goes to the provider's delayed retry where there is one...
        {"retry_message on SQS",
         {handling_result::retry_requested, {}, 30s},
         running,
         sqs_like,
         {settlement::retry, provider_step::retry, 30s}},
        {"error handler retries on SQS",
         failed_with(error_action::retry_after(5s)),
         running,
         sqs_like,
         {settlement::retry, provider_step::retry, 5s}},
        {"retry on SQS while stopping",
         failed_with(error_action::retry_after(5s)),
         stopping,
         sqs_like,
         {settlement::retry, provider_step::retry, 5s}},
        {"retry through a broker's retry queue",
         failed_with(error_action::retry_after(5s)),
         running,
         retry_queue_broker,
         {settlement::retry, provider_step::retry, 5s}},
        // ...is held by courier where there is none...
        {"retry on a broker",
         failed_with(error_action::retry_after(5s)),
         running,
         broker_like,
         {settlement::retry, provider_step::hold_then_release, 5s}},
        {"retry_message on a broker",
         {handling_result::retry_requested, {}, 1min},
         running,
         broker_like,
         {settlement::retry, provider_step::hold_then_release, 1min}},
        // ...and released at once when nothing may be held.
        {"retry on a broker while stopping",
         failed_with(error_action::retry_after(5s)),
         stopping,
         broker_like,
         {settlement::retry, provider_step::release}},
        {"retry without delay on a broker",
         failed_with(error_action::retry_after(0s)),
         running,
         broker_like,
         {settlement::retry, provider_step::release}},

        // Leave is nothing where a visibility timeout brings the message back...
        {"error handler leaves on SQS",
         failed_with(error_action::leave()),
         running,
         sqs_like,
         {settlement::leave, provider_step::leave}},
        {"leave on SQS while stopping",
         failed_with(error_action::leave()),
         stopping,
         sqs_like,
         {settlement::leave, provider_step::leave}},
        // ...and a redelivery after leave_delay where nothing would.
        {"leave on a broker",
         failed_with(error_action::leave()),
         running,
         broker_like,
         {settlement::leave, provider_step::hold_then_release, leave_delay}},
        {"leave on a broker with a retry queue",
         failed_with(error_action::leave()),
         running,
         retry_queue_broker,
         {settlement::leave, provider_step::retry, leave_delay}},
        {"leave on a broker while stopping",
         failed_with(error_action::leave()),
         stopping,
         broker_like,
         {settlement::leave, provider_step::release}},

        // Given back unhandled.
        {"error handler releases",
         failed_with(error_action::release()),
         running,
         sqs_like,
         {settlement::release, provider_step::release}},
        {"cancelled at a forced stop",
         {handling_result::cancelled},
         forced,
         sqs_like,
         {settlement::release, provider_step::release}},
        {"not started at stop",
         {handling_result::not_started},
         stopping,
         sqs_like,
         {settlement::release, provider_step::release}},
        {"not started: its FIFO group broke",
         {handling_result::not_started},
         running,
         broker_like,
         {settlement::release, provider_step::release}},
    };
    for (const auto& r : rows)
    {
        CAPTURE(std::string(r.what));
        const auto plan = plan_settlement(r.result, r.stop, r.provider, leave_delay);
        CHECK(plan.outcome == r.expected.outcome);
        CHECK(plan.step == r.expected.step);
        CHECK(plan.delay == r.expected.delay);
    }
}

TEST_CASE("settlement plan: capabilities are read from what a provider declares")
{
    struct both final : courier::visibility_control, courier::delayed_retry
    {
        std::chrono::milliseconds visibility_timeout() const override { return 1s; }
        std::chrono::milliseconds max_visibility() const override { return 0s; }
        boost::asio::awaitable<void> extend(const courier::message&, std::chrono::milliseconds) override { co_return; }
        void leave(const courier::message&) override {}
        boost::asio::awaitable<void> retry(const courier::message&, std::chrono::milliseconds) override { co_return; }
    } p;
    const auto none = courier::detail::settlement_capabilities_of({});
    CHECK_FALSE(none.visibility);
    CHECK_FALSE(none.delayed_retry);
    const auto all = courier::detail::settlement_capabilities_of({.visibility = &p, .retry = &p});
    CHECK(all.visibility);
    CHECK(all.delayed_retry);
}
