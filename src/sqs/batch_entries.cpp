// The per-entry bookkeeping of SQS batch requests (see batch_entries.hpp).
#include "sqs/batch_entries.hpp"

#include "aws/error_codes.hpp"
#include "aws/excerpt.hpp"

#include <charconv>
#include <string>

namespace courier::sqs {

batch_entries::batch_entries(std::size_t count, http::retry_policy& retries, std::string_view action,
                             std::string_view queue)
    : pending_(count),
      outcomes_(count),
      attempts_(retries),
      action_(action),
      queue_(queue)
{
    for (std::size_t i = 0; i < count; ++i)
        pending_[i] = i;
}

std::chrono::milliseconds batch_entries::record(const batch_result& answer)
{
    // The Ids come from the server. One we never sent (not a number, or past the request) is
    // an unreadable answer: neither a reason to guess which entry it meant, nor to throw
    // std::stoul's invalid_argument out of the route.
    std::vector<const batch_failure*> failure_of(pending_.size(), nullptr);
    std::vector<bool> listed(pending_.size(), false);
    // Built only to throw: every entry of every batch passes here.
    auto where = [&] { return error_context{.action = std::string(action_), .queue = std::string(queue_)}; };
    auto slot_of = [&](const std::string& id, std::string_view list) {
        std::size_t slot = 0;
        const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), slot);
        if (id.empty() || ec != std::errc() || end != id.data() + id.size() || slot >= pending_.size())
            throw error(errc::bad_response,
                        std::string(list) + " entry Id \"" + aws::excerpt(id, 64) + "\" was not in the request",
                        where());
        if (listed[slot])
            throw error(errc::bad_response, "entry Id \"" + id + "\" appears twice in the answer", where());
        listed[slot] = true;
        return slot;
    };
    for (const std::string& id : answer.successful)
        slot_of(id, "Successful");
    for (const batch_failure& f : answer.failed)
        failure_of[slot_of(f.id, "Failed")] = &f;

    std::vector<std::size_t> again;
    bool throttled = false;
    for (std::size_t slot = 0; slot < pending_.size(); ++slot)
    {
        entry_outcome& outcome = outcomes_[pending_[slot]];
        if (!listed[slot])
        {
            outcome.state = entry_state::failed;
            outcome.missing = true;
        }
        else if (const batch_failure* f = failure_of[slot]; f == nullptr)
        {
            outcome.state = entry_state::succeeded;
        }
        else
        {
            outcome.failure = *f;
            outcome.state = entry_state::failed;
            if (!f->sender_fault)
            {
                again.push_back(pending_[slot]);
                throttled = throttled || aws::is_throttling_code(f->code);
            }
        }
    }

    pending_.clear();
    if (again.empty())
    {
        attempts_.on_success();
        return std::chrono::milliseconds::zero();
    }
    const auto decision = attempts_.on_failure({.retryable = true, .timeout = false, .throttling = throttled});
    if (!decision)
        return std::chrono::milliseconds::zero(); // they stay failed, with their last answer
    for (const std::size_t index : again)
        outcomes_[index].state = entry_state::pending;
    pending_ = std::move(again);
    return decision.delay;
}

void batch_entries::fail_pending()
{
    for (const std::size_t index : pending_)
    {
        // The request's failure is the last word, not an earlier answer for the entry.
        outcomes_[index].state = entry_state::failed;
        outcomes_[index].failure = {};
    }
    pending_.clear();
}

} // namespace courier::sqs
