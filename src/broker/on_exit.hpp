// Runs a function when a scope ends, however it ends: a coroutine cancelled while waiting must
// still take its stack-allocated waiter out of the connection's tables.
#ifndef COURIER_SRC_BROKER_ON_EXIT_HPP
#define COURIER_SRC_BROKER_ON_EXIT_HPP

#include <utility>

namespace courier::broker {

template <class F> class on_exit
{
public:
    explicit on_exit(F f)
        : f_(std::move(f))
    {
    }
    ~on_exit() { f_(); }
    on_exit(const on_exit&) = delete;
    on_exit& operator=(const on_exit&) = delete;

private:
    F f_;
};

} // namespace courier::broker

#endif
