// Shared helpers for the unit tests: running coroutines under a time limit, capturing
// log lines, and a provider wrapper that records how it is called.
#ifndef COURIER_TESTS_TEST_SUPPORT_HPP
#define COURIER_TESTS_TEST_SUPPORT_HPP

#include <courier/courier.hpp>
#include <courier/testing/simulated_clock.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace courier_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// A time limit that only catches a hang, for tests on real sockets or real servers: it must
/// hold when the machine is 20 times slower than an idle one (a sanitizer build while another
/// build runs), so it is far above what such a test takes (a few seconds at most on an idle
/// machine), and under meson's 300 s per test binary.
inline constexpr std::chrono::seconds hang_guard{120};

/// Spawns `fn()` (an awaitable) on `io`, lets `drive(done)` run the io_context (`done` turns
/// true when the coroutine completes), then checks that the coroutine finished, rethrows
/// what it threw, and returns its result.
template <class Fn, class Drive> auto run_coroutine(asio::io_context& io, Fn fn, Drive drive, const char* failure)
{
    using result_type = typename decltype(fn())::value_type;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<result_type>, int, result_type>> result;
    bool done = false;
    asio::co_spawn(io, fn(), [&](std::exception_ptr e, auto... r) {
        error = e;
        if constexpr (sizeof...(r) == 1)
            result.emplace(r...);
        done = true;
    });
    drive(std::as_const(done));
    REQUIRE_MESSAGE(done, failure);
    if (error)
        std::rethrow_exception(error);
    if constexpr (!std::is_void_v<result_type>)
        return *result;
}

/// Runs `fn()` on `io` in real time, failing the test after `limit`.
template <class Fn> auto run_real(asio::io_context& io, Fn fn, std::chrono::milliseconds limit = 10s)
{
    return run_coroutine(
        io, std::move(fn), [&](const bool&) { io.run_for(limit); }, "coroutine did not finish within the time limit");
}

/// Runs `fn()` on `io` under simulated time until everything is idle.
template <class Fn>
auto run_simulated(asio::io_context& io, courier::testing::simulated_clock& clock, Fn fn,
                   courier::clock::duration limit = 1000h)
{
    return run_coroutine(
        io, std::move(fn), [&](const bool&) { clock.run(io, limit); },
        "coroutine did not finish (deadlock or simulated time limit)");
}

/// The next event a sans-io session (STOMP, AMQP) has for its driver, which the test expects
/// to be a `T`.
template <class T, class Session> T next_event_as(Session& s)
{
    auto e = s.poll_event();
    REQUIRE(e.has_value());
    REQUIRE_MESSAGE(std::holds_alternative<T>(*e), "event index " << e->index());
    return std::get<T>(std::move(*e));
}

inline bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

/// The courier::error that `f` throws; fails the test if it throws nothing or something else.
template <class F> courier::error error_from(F&& f)
{
    try
    {
        f();
    }
    catch (const courier::error& e)
    {
        return e;
    }
    FAIL("expected a courier::error");
    throw std::logic_error("unreachable");
}

/// Collects log records as "LEVEL [route] id text" (route and id left out when empty).
class log_capture
{
public:
    courier::logger make(courier::log_level level = courier::log_level::trace)
    {
        return courier::logger(level, [this](const courier::log_record& r) {
            std::lock_guard lock(mutex_);
            std::string line(courier::to_string(r.level));
            if (!r.route.empty())
                line.append(" [").append(r.route).append("]");
            if (!r.message_id.empty())
                line.append(" ").append(r.message_id);
            lines_.push_back(line.append(" ").append(r.text));
        });
    }
    std::vector<std::string> lines() const
    {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    /// Every line, each followed by a newline.
    std::string all() const
    {
        std::lock_guard lock(mutex_);
        std::string out;
        for (const auto& l : lines_)
            out.append(l).append("\n");
        return out;
    }
    bool contains(std::string_view part) const { return courier_test::contains(all(), part); }
    std::size_t count(std::string_view needle) const
    {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& l : lines_)
            n += l.find(needle) != std::string::npos;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

/// What the dispatcher-level tests share: an io_context, a simulated clock, a log
/// capture, and in-memory queues that run on that clock.
struct simulated_fixture
{
    asio::io_context io;
    std::shared_ptr<courier::testing::simulated_clock> clock = std::make_shared<courier::testing::simulated_clock>();
    log_capture logs;

    std::shared_ptr<courier::memory_provider> queue(courier::memory_queue_options o = {})
    {
        o.clock = clock;
        o.log = logs.make();
        return std::make_shared<courier::memory_provider>(std::move(o));
    }
};

/// A simulated fixture with a dispatcher: options on the fixture's clock and log, and a run
/// that stops the dispatcher once a condition holds.
struct dispatcher_fixture : simulated_fixture
{
    courier::dispatcher_options options(courier::dispatcher_options o = {})
    {
        o.clock = clock;
        o.log = logs.make(courier::log_level::debug);
        return o;
    }

    // Runs the dispatcher until `until()` holds (checked every 10 ms of simulated time), then
    // stops it and runs to the end.
    courier::stop_kind run(courier::dispatcher& d, std::function<bool()> until, courier::clock::duration limit = 100h)
    {
        std::optional<courier::stop_kind> result;
        asio::co_spawn(io, d.run(), [&](std::exception_ptr e, courier::stop_kind k) {
            if (e)
                std::rethrow_exception(e);
            result = k;
        });
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                while (!until())
                    co_await clock->sleep_for(10ms);
                d.stop();
            },
            asio::detached);
        clock->run(io, limit);
        REQUIRE_MESSAGE(result.has_value(), "dispatcher did not stop");
        return *result;
    }
};

/// A coroutine "doing work" for `d` of simulated time.
inline asio::awaitable<void> work(courier::clock& c, courier::clock::duration d)
{
    co_await c.sleep_for(d);
}

/// Wraps a provider and records every call: how many messages each receive asked for, and
/// which ids were acked, retried or released. It declares what the wrapped provider declares,
/// except acks by callback: its acks are awaited, so that tests see them and the route's
/// awaited-ack path runs.
class recording_provider final : public courier::provider,
                                 private courier::visibility_control,
                                 private courier::delayed_retry
{
public:
    explicit recording_provider(std::shared_ptr<courier::provider> inner)
        : inner_(std::move(inner))
    {
    }

    std::string name() const override { return "recording:" + inner_->name(); }
    asio::awaitable<void> open(std::size_t max_in_flight) override
    {
        ++opens;
        co_await inner_->open(max_in_flight);
    }
    asio::awaitable<std::vector<courier::message>> receive(std::size_t max) override
    {
        note_executor();
        max_asked = std::max(max_asked.load(), max);
        ++receives;
        if (fail_receives > 0)
        {
            --fail_receives;
            throw courier::error(receive_failure, "injected receive failure");
        }
        co_return co_await inner_->receive(max);
    }
    asio::awaitable<void> ack(const courier::message& m) override
    {
        note_executor();
        {
            std::lock_guard lock(mutex);
            if (fail_ack_once.erase(m.id) != 0)
                throw courier::error(courier::errc::server_error, "injected ack failure", {.message_id = m.id});
        }
        co_await inner_->ack(m);
        std::lock_guard lock(mutex);
        acked.push_back(m.id);
    }
    asio::awaitable<void> release(const courier::message& m) override
    {
        note_executor();
        co_await inner_->release(m);
        std::lock_guard lock(mutex);
        released.push_back(m.id);
    }
    void stop_receiving() override
    {
        ++stops_receiving;
        receives_at_stop = receives.load();
        closes_at_stop = closes.load();
        std::lock_guard lock(mutex);
        acked_at_stop = acked.size();
        inner_->stop_receiving();
    }
    asio::awaitable<void> close() override
    {
        ++closes;
        co_await inner_->close();
    }
    std::optional<asio::any_io_executor> executor() const override
    {
        if (own_strand)
            return asio::any_io_executor(*own_strand);
        return std::nullopt;
    }
    courier::provider_capabilities capabilities() override
    {
        inner_capabilities_ = inner_->capabilities();
        if (declare_nothing)
            return {};
        return {.visibility = inner_capabilities_.visibility != nullptr ? this : nullptr,
                .retry = inner_capabilities_.retry != nullptr ? this : nullptr,
                .redelivery = inner_capabilities_.redelivery};
    }

    std::atomic<std::size_t> max_asked{0};
    std::atomic<int> opens{0};
    std::atomic<int> receives{0};
    std::atomic<int> fail_receives{0};
    courier::errc receive_failure = courier::errc::transport_failed; ///< what a failed receive throws
    std::atomic<int> extends{0};
    std::atomic<int> leaves{0};
    std::atomic<int> closes{0};
    std::atomic<int> stops_receiving{0};
    int receives_at_stop = 0, closes_at_stop = 0; ///< when stop_receiving was called
    std::size_t acked_at_stop = 0;
    std::mutex mutex;
    std::vector<std::string> acked, retried, released;
    std::vector<std::chrono::milliseconds> extensions;
    std::set<std::string> fail_ack_once; ///< ids whose next ack fails (and deletes nothing)
    bool refuse_extensions = false;      ///< extend throws stale_receipt
    bool declare_nothing = false;        ///< capabilities() declares none (a plain broker)
    /// The provider's own executor (`executor()`), and how many receive, ack and release
    /// calls came from elsewhere.
    std::optional<asio::strand<asio::io_context::executor_type>> own_strand;
    std::atomic<int> calls_elsewhere{0};

private:
    void note_executor()
    {
        if (own_strand && !own_strand->running_in_this_thread())
            ++calls_elsewhere;
    }
    asio::awaitable<void> retry(const courier::message& m, std::chrono::milliseconds d) override
    {
        co_await inner_capabilities_.retry->retry(m, d);
        std::lock_guard lock(mutex);
        (d == 0ms ? released : retried).push_back(m.id);
    }
    asio::awaitable<void> extend(const courier::message& m, std::chrono::milliseconds d) override
    {
        if (refuse_extensions)
        {
            ++extends;
            throw courier::error(courier::errc::stale_receipt, "injected refusal", {.message_id = m.id});
        }
        co_await inner_capabilities_.visibility->extend(m, d);
        ++extends;
        std::lock_guard lock(mutex);
        extensions.push_back(d);
    }
    void leave(const courier::message& m) override
    {
        ++leaves;
        inner_capabilities_.visibility->leave(m);
    }
    std::chrono::milliseconds visibility_timeout() const override
    {
        return inner_capabilities_.visibility->visibility_timeout();
    }
    std::chrono::milliseconds max_visibility() const override
    {
        return inner_capabilities_.visibility->max_visibility();
    }

    std::shared_ptr<courier::provider> inner_;
    courier::provider_capabilities inner_capabilities_;
};

} // namespace courier_test

#endif
