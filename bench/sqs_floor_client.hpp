// The transport floor of the stub benchmark: the least a client can spend per message on
// this machine to drain the stub the way courier does (ReceiveMessage of 10, then one
// DeleteMessageBatch of their receipts, on one keep-alive connection), with blocking
// system calls and nothing else: no signing (a dummy Authorization header of the real
// size), no JSON parse, no MD5 check, no event loop, no message objects. What courier
// spends above this figure is its own; the kernel's part is here too.
#ifndef COURIER_BENCH_SQS_FLOOR_CLIENT_HPP
#define COURIER_BENCH_SQS_FLOOR_CLIENT_HPP

#include <cstdint>

namespace courier::bench {

struct floor_result
{
    std::int64_t messages = 0;
    std::int64_t requests = 0;
    double seconds = 0;
    double cpu_seconds = 0; // user + system, this process
};

/// Drains at least `messages` from the stub listening on 127.0.0.1:`port`.
/// Throws std::system_error or std::runtime_error if the stub misbehaves.
floor_result run_floor(unsigned short port, std::int64_t messages);

} // namespace courier::bench

#endif
