// The entries of one SQS batch request (DeleteMessageBatch, ChangeMessageVisibilityBatch)
// through its retries, without I/O: which entries the next request carries, what each answer
// says of each of them, which failed entries are sent again and after what pause, and which
// failed for good.
//
// SQS answers a batch with two lists of entry Ids, Successful and Failed; an entry may fail
// while the others succeed. The rules:
// - an entry listed under Successful is done;
// - an entry listed under Failed with SenderFault false (the server's trouble: InternalError,
//   throttling) is sent again in the next request, after the pause the standard retry mode
//   gives (http/retry.hpp, the same backoff as for whole requests, with its attempt limit and
//   retry quota); once the policy refuses another attempt it failed with that answer;
// - an entry listed under Failed with SenderFault true failed (sending it again cannot help);
// - an entry listed nowhere failed: the server did not say it was done, and counting it as
//   done could lose a message (an acknowledgement that did not happen);
// - an answer naming an Id that was not sent, or an Id twice, cannot be read at all.
#ifndef COURIER_SRC_SQS_BATCH_ENTRIES_HPP
#define COURIER_SRC_SQS_BATCH_ENTRIES_HPP

#include "http/retry.hpp"
#include "sqs/protocol.hpp"

#include <chrono>
#include <cstddef>
#include <string_view>
#include <vector>

namespace courier::sqs {

/// Where an entry stands.
enum class entry_state
{
    pending,   ///< to be sent (again)
    succeeded, ///< listed under Successful
    failed,    ///< for good: see `entry_outcome`
};

/// What became of one entry.
struct entry_outcome
{
    entry_state state = entry_state::pending;
    /// For a failed entry listed under Failed: the server's Id, code, message and fault. An
    /// entry that failed otherwise (`missing`, or the whole request failed) has none.
    batch_failure failure{};
    /// Failed because the answer listed it under neither Successful nor Failed.
    bool missing = false;
};

/// The bookkeeping of one batch through its requests.
///
/// Use: send the entries `pending()` names (the i-th with Id `batch_entry_ids[i]`), pass the
/// answer to `record`, wait the pause it returns, and repeat while `pending()` is not empty. If
/// a request fails as a whole, call `fail_pending`.
///
/// Lifetime: the retry policy must outlive this object. Not thread-safe.
class batch_entries
{
public:
    /// `count` entries (1..10), all pending. `action` and `queue` go into errors.
    batch_entries(std::size_t count, http::retry_policy& retries, std::string_view action, std::string_view queue);

    /// The entries (indexes in the caller's list) the next request carries, in Id order.
    const std::vector<std::size_t>& pending() const noexcept { return pending_; }

    /// Reads the answer to the request that carried `pending()` and updates every entry it
    /// carried (see the file comment). Returns the pause before the next request, zero if none
    /// is left to send.
    ///
    /// Errors: throws `courier::error` (`errc::bad_response`, context: action and queue) if the
    /// answer names an Id that was not sent or names one twice; nothing is recorded then.
    std::chrono::milliseconds record(const batch_result& answer);

    /// The request that carried `pending()` failed as a whole: those entries failed (with
    /// no `failure` of their own) and none is left pending.
    void fail_pending();

    /// One outcome per entry, by index.
    const std::vector<entry_outcome>& outcomes() const noexcept { return outcomes_; }

private:
    std::vector<std::size_t> pending_;
    std::vector<entry_outcome> outcomes_;
    http::retry_state attempts_;
    std::string_view action_;
    std::string_view queue_;
};

} // namespace courier::sqs

#endif
