// The provider conformance suite on the memory queue, in simulated time.
#include "../unit/test_support.hpp"
#include "provider_conformance.hpp"

namespace {

using namespace std::chrono_literals;

struct memory_harness : courier_test::simulated_fixture
{
    static constexpr bool supports_fifo = true;

    courier_conformance::queue_pair make_queue(bool fifo, std::chrono::seconds visibility)
    {
        auto q = queue({.visibility_timeout = visibility, .receive_wait = 0s, .fifo = fifo});
        return {q, q, [q] { return q; }};
    }

    template <class Fn> auto run(Fn fn) { return courier_test::run_simulated(io, *clock, std::move(fn)); }

    boost::asio::awaitable<void> pause(std::chrono::milliseconds d) { co_await clock->sleep_for(d); }
};

} // namespace

COURIER_PROVIDER_CONFORMANCE(memory_harness);
