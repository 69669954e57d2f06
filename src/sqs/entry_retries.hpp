// Sending the entries of an SQS batch until each has an outcome: the I/O around
// `batch_entries` (batch_entries.hpp, which decides). Entries the server failed on its side
// are sent again after the standard retry mode's pause, on courier::clock; each entry ends
// with its own result (null for success, else the error that says why, with its message id).
//
// One `entry_retrier` per provider: the retry policy keeps a quota, which is not thread-safe,
// and a provider's batches run on its route's strand, not on the client's.
#ifndef COURIER_SRC_SQS_ENTRY_RETRIES_HPP
#define COURIER_SRC_SQS_ENTRY_RETRIES_HPP

#include "aws/signed_client.hpp"
#include "sqs/batch_entries.hpp"

#include <courier/clock.hpp>
#include <courier/logger.hpp>

#include <boost/asio/awaitable.hpp>

#include <exception>
#include <memory>
#include <string_view>
#include <vector>

namespace courier::sqs {

class entry_retrier
{
public:
    /// Takes the client's retry settings (with a quota of its own), clock and log.
    explicit entry_retrier(const aws::signed_client& client)
        : retries_(client.retry_options()),
          clock_(client.clock()),
          log_(client.options().log)
    {
    }

    /// Sends `entries` through `send` until each has an outcome, and stores one result per
    /// entry in `results` (null = success). `send(pending)` sends the entries at the indexes
    /// `pending` lists, the i-th with Id `batch_entry_ids[i]`, and returns the parsed answer;
    /// if it throws, the entries it carried fail with what it threw. Entry must have a
    /// `message_id`. Never throws.
    template <class Entry, class Send>
    boost::asio::awaitable<void> send(const std::vector<Entry>& entries, std::vector<std::exception_ptr>& results,
                                      std::string_view action, std::string_view queue, Send send)
    {
        batch_entries book(entries.size(), retries_, action, queue);
        std::exception_ptr request_failure;
        while (!book.pending().empty())
        {
            std::chrono::milliseconds pause{0};
            try
            {
                const batch_result answer = co_await send(book.pending());
                pause = book.record(answer);
            }
            catch (...)
            {
                request_failure = std::current_exception();
            }
            if (request_failure)
            {
                book.fail_pending();
                break;
            }
            if (!book.pending().empty())
                co_await clock_->sleep_for(pause);
        }
        for (std::size_t i = 0; i < entries.size(); ++i)
            results[i] = result_of(book.outcomes()[i], request_failure, entries[i].message_id, action, queue);
    }

private:
    /// One entry's result: null, the server's answer for it, or why there is none.
    std::exception_ptr result_of(const entry_outcome& outcome, const std::exception_ptr& request_failure,
                                 std::string_view message_id, std::string_view action, std::string_view queue) const;

    http::retry_policy retries_;
    std::shared_ptr<courier::clock> clock_;
    logger log_;
};

} // namespace courier::sqs

#endif
