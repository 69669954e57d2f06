// The AWS SDKs' "standard" retry mode as a sans-io policy: attempt limit, capped
// exponential backoff with full jitter, and the retry quota (a token bucket shared by every
// request of one client that stops retries when failures are widespread).
//
// Nothing here sleeps or does I/O. A caller runs an attempt, tells a `retry_state` how it
// ended, and gets back whether to retry and how long to wait first. Which failures are
// retryable (and which are timeouts or throttling) is the caller's classification: the SQS
// layer knows its error codes, this file does not.
//
// The defaults are the ones the SDKs document for standard mode (max 3 attempts, backoff
// `random[0,1) * min(1 s * 2^(attempt-1), 20 s)`, a 500-token quota, 5 tokens a retry, 10 for a
// timeout, 1 back for a success at the first attempt, the retry's cost back for a success
// after retries). The SDKs' 2026 revision (opt-in via AWS_NEW_RETRIES_2026) changes some of
// these (50 ms transient base delay, 14 tokens for a transient retry); every number is an
// option, so it can be selected without code changes here.
#ifndef COURIER_HTTP_RETRY_HPP
#define COURIER_HTTP_RETRY_HPP

#include <chrono>
#include <functional>

namespace courier::http {

/// Settings of the standard retry mode. Durations are milliseconds.
struct retry_options
{
    /// Attempts per request, the first one included. 1 disables retries. Default 3.
    unsigned max_attempts = 3;
    /// Backoff base for non-throttling failures: the ceiling of the delay before retry n
    /// (n = 1, 2, ...) is `base_delay * 2^(n-1)`. Default 1 s.
    std::chrono::milliseconds base_delay{1000};
    /// Backoff base when the failure was throttling. Default 1 s.
    std::chrono::milliseconds throttling_base_delay{1000};
    /// Upper bound of every delay ceiling. Default 20 s.
    std::chrono::milliseconds max_backoff{20000};
    /// Size (and initial content) of the retry quota in tokens. Default 500.
    unsigned quota_capacity = 500;
    /// Tokens a retry takes from the quota. Default 5.
    unsigned retry_cost = 5;
    /// Tokens a retry after a timeout takes. Default 10.
    unsigned timeout_retry_cost = 10;
    /// Tokens a request that succeeded at its first attempt gives back. Default 1.
    unsigned success_increment = 1;
};

/// How an attempt failed, as classified by the caller.
struct attempt_failure
{
    /// The failure is transient and the request may be sent again.
    bool retryable = false;
    /// A connect or read timeout (costs `timeout_retry_cost`).
    bool timeout = false;
    /// The server throttled the request (backoff uses `throttling_base_delay`).
    bool throttling = false;
};

/// Why a failed attempt is or is not retried.
enum class retry_verdict
{
    retry,              ///< wait `delay`, then send again
    not_retryable,      ///< the caller classified the failure as permanent
    attempts_exhausted, ///< `max_attempts` attempts were made
    quota_exhausted,    ///< the retry quota has too few tokens left
};

/// The answer to a failed attempt.
struct retry_decision
{
    retry_verdict verdict = retry_verdict::not_retryable;
    std::chrono::milliseconds delay{0};

    explicit operator bool() const noexcept { return verdict == retry_verdict::retry; }
};

/// A source of uniformly distributed numbers in [0, 1). Tests inject a fixed sequence.
using random_source = std::function<double()>;

/// The part of the retry mode shared by all requests of one client: the options, the random
/// source and the retry quota.
///
/// Thread safety: not thread-safe; use it from one strand (the client's).
class retry_policy
{
public:
    /// With an empty `random`, a generator seeded from std::random_device is used.
    explicit retry_policy(retry_options options = {}, random_source random = {});

    const retry_options& options() const noexcept { return options_; }
    /// Tokens currently in the retry quota.
    unsigned available_tokens() const noexcept { return tokens_; }

private:
    friend class retry_state;

    retry_options options_;
    random_source random_;
    unsigned tokens_;
};

/// One request's way through its attempts. Create one per request, call `on_failure` after
/// each failed attempt (and wait the returned delay if it says retry) or `on_success` once
/// the request succeeded.
///
/// Lifetime: the policy must outlive the state.
class retry_state
{
public:
    explicit retry_state(retry_policy& policy) noexcept
        : policy_(&policy)
    {
    }

    /// Records a failed attempt and decides about the next one. A `retry` verdict has
    /// already taken its tokens from the quota.
    retry_decision on_failure(const attempt_failure& failure);

    /// Records the success and refills the quota: `success_increment` tokens if the first
    /// attempt succeeded, otherwise the tokens the last retry took. Capped at capacity.
    void on_success() noexcept;

    /// Attempts finished so far (failed or succeeded).
    unsigned attempts() const noexcept { return attempts_; }

private:
    retry_policy* policy_;
    unsigned attempts_ = 0;
    unsigned last_cost_ = 0;
};

} // namespace courier::http

#endif
