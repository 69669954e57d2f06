// A broker connection's write progress and the acknowledgements waiting for it, and the
// sessions' event queue, without I/O.
#include "broker/event_queue.hpp"
#include "broker/write_progress.hpp"

#include <courier/error.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace broker = courier::broker;

namespace {

courier::message named(std::string id)
{
    courier::message m;
    m.id = std::move(id);
    return m;
}

// Records every call; `then` runs inside the first one (a listener that starts another ack).
struct recorder final : courier::ack_listener
{
    void acked(const courier::message& msg, std::exception_ptr error) noexcept override
    {
        calls.push_back(msg.id + (error ? ":failed" : ":ok"));
        if (then)
            std::exchange(then, nullptr)();
    }
    std::vector<std::string> calls;
    std::function<void()> then;
};

} // namespace

TEST_CASE("write progress: an acknowledgement is confirmed once the write carrying it completed, in order")
{
    broker::write_progress p;
    recorder r;
    const auto a = named("a"), b = named("b"), c = named("c");
    p.ack_when_written(p.mark(21), a, r); // 21 bytes queued: a's frame
    p.ack_when_written(p.mark(42), b, r);
    p.writing(42);
    p.ack_when_written(p.mark(21), c, r); // queued behind the write under way
    CHECK(r.calls.empty());
    p.wrote();
    CHECK(r.calls == std::vector<std::string>{"a:ok", "b:ok"});
    CHECK(p.written() == 42);
    p.writing(21);
    p.wrote();
    CHECK(r.calls == std::vector<std::string>{"a:ok", "b:ok", "c:ok"});
    CHECK(p.written() == 63);
}

TEST_CASE("write progress: a dropped connection fails every waiting acknowledgement, and a write under way")
{
    broker::write_progress p;
    recorder r;
    const auto a = named("a"), b = named("b");
    p.ack_when_written(p.mark(10), a, r);
    p.writing(10);
    p.ack_when_written(p.mark(20), b, r);
    p.dropped(std::make_exception_ptr(courier::error(courier::errc::transport_failed, "gone")));
    CHECK(r.calls == std::vector<std::string>{"a:failed", "b:failed"});
    CHECK(p.written() == 0);
    CHECK(p.mark(5) == 5); // the lost write no longer counts
    p.dropped(nullptr);    // nothing waits: nothing is called
    CHECK(r.calls.size() == 2);
}

TEST_CASE("write progress: a listener may start another acknowledgement while it is told")
{
    broker::write_progress p;
    recorder r;
    const auto a = named("a"), b = named("b");
    p.ack_when_written(p.mark(10), a, r);
    r.then = [&] { p.ack_when_written(p.mark(10), b, r); }; // behind the next write
    p.writing(10);
    p.wrote();
    CHECK(r.calls == std::vector<std::string>{"a:ok"});
    p.writing(10);
    p.wrote();
    CHECK(r.calls == std::vector<std::string>{"a:ok", "b:ok"});
}

TEST_CASE("write progress: an acknowledgement that cannot be queued fails at once, the others wait for their write")
{
    broker::write_progress p;
    recorder r;
    const auto a = named("a"), b = named("b");
    p.start_ack([]() -> std::uint64_t { throw courier::error(courier::errc::stale_receipt, "old channel"); }, a, r);
    CHECK(r.calls == std::vector<std::string>{"a:failed"});
    p.start_ack([&] { return p.mark(21); }, b, r);
    CHECK(r.calls.size() == 1);
    p.writing(21);
    p.wrote();
    CHECK(r.calls == std::vector<std::string>{"a:failed", "b:ok"});
}

TEST_CASE("event queue: events come out oldest first, also when more arrive between polls")
{
    broker::event_queue<std::string> q;
    CHECK_FALSE(q.poll());
    q.emplace_back("one");
    q.emplace_back(3, 'x');
    CHECK(q.poll() == "one");
    q.emplace_back("two");
    CHECK(q.poll() == "xxx");
    CHECK(q.poll() == "two");
    CHECK_FALSE(q.poll());
    q.emplace_back("three"); // after it was emptied
    CHECK(q.poll() == "three");
    CHECK_FALSE(q.poll());
}
