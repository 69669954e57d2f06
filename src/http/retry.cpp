// The standard retry mode's arithmetic: backoff ceilings, jitter and the quota's bookkeeping.
// Kept out of the header so that users of retry.hpp do not pull in <random>.
#include "http/retry.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace courier::http {

namespace {

random_source default_random()
{
    // One generator per policy; seeding from random_device keeps separate processes (many
    // consumers of one queue) from retrying in lockstep, which is what jitter is for.
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

} // namespace

retry_policy::retry_policy(retry_options options, random_source random)
    : options_(options),
      random_(random ? std::move(random) : default_random()),
      tokens_(options.quota_capacity)
{
}

retry_decision retry_state::on_failure(const attempt_failure& failure)
{
    ++attempts_;
    const retry_options& opt = policy_->options_;
    if (!failure.retryable)
        return {retry_verdict::not_retryable};
    if (attempts_ >= opt.max_attempts)
        return {retry_verdict::attempts_exhausted};

    const unsigned cost = failure.timeout ? opt.timeout_retry_cost : opt.retry_cost;
    if (policy_->tokens_ < cost)
        return {retry_verdict::quota_exhausted};
    policy_->tokens_ -= cost;
    last_cost_ = cost;

    // Full jitter: uniform in [0, ceiling). The exponent is computed in floating point so a
    // large max_attempts cannot overflow before the cap applies.
    const auto base = failure.throttling ? opt.throttling_base_delay : opt.base_delay;
    const double ceiling = std::min(static_cast<double>(base.count()) * std::exp2(static_cast<double>(attempts_ - 1)),
                                    static_cast<double>(opt.max_backoff.count()));
    // Clamp: an injected source might return exactly 1 or a little outside [0, 1).
    const double r = std::clamp(policy_->random_(), 0.0, 1.0);
    const auto delay = std::chrono::milliseconds(static_cast<long long>(r * ceiling));
    return {retry_verdict::retry, delay};
}

void retry_state::on_success() noexcept
{
    ++attempts_;
    const retry_options& opt = policy_->options_;
    const unsigned refund = last_cost_ != 0 ? last_cost_ : opt.success_increment;
    policy_->tokens_ = std::min(opt.quota_capacity, policy_->tokens_ + refund);
}

} // namespace courier::http
