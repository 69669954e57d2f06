// How far a broker connection's writer has got, and the acknowledgements waiting for it.
//
// Bytes are counted from the connection object's start: `mark(queued)` is the count the
// writer reaches once everything queued so far is written. An ACK (STOMP) or basic.ack
// (AMQP) has no reply, so it counts as done once the write that carried it completed; a
// route that acknowledges by callback (`ack_by_callback`) is told then, from the writer,
// without a coroutine waiting for each message. When the connection drops first, each
// waiting acknowledgement fails: the broker gives its message back.
//
// Used on the connection's executor only.
#ifndef COURIER_SRC_BROKER_WRITE_PROGRESS_HPP
#define COURIER_SRC_BROKER_WRITE_PROGRESS_HPP

#include "courier/provider.hpp"

#include <cstdint>
#include <deque>
#include <exception>

namespace courier::broker {

class write_progress
{
public:
    /// Where the writer is once the bytes written, under way, and `queued` more are written.
    std::uint64_t mark(std::size_t queued) const noexcept { return written_ + writing_ + queued; }
    /// Bytes written in all.
    std::uint64_t written() const noexcept { return written_; }

    /// The writer starts writing `n` bytes.
    void writing(std::size_t n) noexcept { writing_ = n; }

    /// The write under way completed: every acknowledgement it carried is confirmed.
    void wrote()
    {
        written_ += writing_;
        writing_ = 0;
        while (!acks_.empty() && acks_.front().mark <= written_)
        {
            const auto a = acks_.front();
            acks_.pop_front(); // before the call: the listener may start another acknowledgement
            a.listener->acked(*a.msg, nullptr);
        }
    }

    /// Calls `listener.acked(msg, nullptr)` once the writer has reached `mark`.
    void ack_when_written(std::uint64_t mark, const message& msg, ack_listener& listener)
    {
        acks_.push_back({mark, &msg, &listener});
    }

    /// An acknowledgement by callback: `queue()` queues its frame and returns the mark it is
    /// written at, or throws, and then the listener is told the error at once.
    template <class Queue> void start_ack(Queue queue, const message& msg, ack_listener& listener)
    {
        std::uint64_t mark = 0;
        try
        {
            mark = queue();
        }
        catch (...)
        {
            listener.acked(msg, std::current_exception());
            return;
        }
        ack_when_written(mark, msg, listener);
    }

    /// The connection dropped: the write under way is lost, and every waiting acknowledgement
    /// fails with `why`.
    void dropped(const std::exception_ptr& why)
    {
        writing_ = 0;
        auto failed = std::move(acks_);
        acks_.clear();
        for (const auto& a : failed)
            a.listener->acked(*a.msg, why);
    }

private:
    struct waiting_ack
    {
        std::uint64_t mark;
        const message* msg;
        ack_listener* listener;
    };

    std::uint64_t written_ = 0, writing_ = 0;
    std::deque<waiting_ack> acks_;
};

} // namespace courier::broker

#endif
