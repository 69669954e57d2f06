// Precompiled header for the tests.
#include <courier/courier.hpp>
#include <courier/testing/simulated_clock.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>
