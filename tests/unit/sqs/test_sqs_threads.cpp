// One sqs_client used from several threads at once (its documented guarantee: "safe to
// use from any thread; requests run on an internal strand"): sends from coroutines on an
// io_context run by two threads and from plain threads, against a loopback server on a
// third. Correct results here are half the point; the other half is running it under
// ThreadSanitizer (tools/run-sanitizers.sh tsan), which sees the signing, the pool and the
// per-thread response parsers shared across threads.
#include "loopback_http_server.hpp"

#include <courier/aws/credentials_provider.hpp>
#include <courier/sqs.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using courier_test::reply;
using courier_test::seen_request;

TEST_CASE("sqs client: concurrent sends from several threads all succeed")
{
    constexpr int from_pool = 40;    // coroutines on the two-thread io_context
    constexpr int from_threads = 20; // co_spawned from two plain threads
    asio::io_context server_io;
    std::atomic<int> served{0};
    courier_test::http_server server(server_io, [&](const seen_request& r, std::size_t) -> reply {
        // Echo the body back as the message id, so each caller can check it got its own answer.
        const auto at = r.body.find("\"MessageBody\":\"");
        const auto end = at == std::string::npos ? at : r.body.find('"', at + 15);
        ++served;
        if (end == std::string::npos)
            return {400, R"({"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"no body"})"};
        return {200, R"({"MessageId":")" + r.body.substr(at + 15, end - at - 15) + "\"}"};
    });
    std::thread server_thread([&] { server_io.run(); });

    asio::io_context io;
    auto work = asio::make_work_guard(io);
    courier::sqs_client_options o;
    o.aws.endpoint = server.url();
    o.aws.region = "us-east-1";
    o.aws.credentials = courier::aws::static_credentials(
        {.access_key_id = "AKIDCOURIERTEST", .secret_access_key = "courier-test-secret"});
    o.aws.max_connections = 4;
    auto client = std::make_shared<courier::sqs_client>(io.get_executor(), o);
    std::vector<std::thread> pool;
    for (int i = 0; i < 2; ++i)
        pool.emplace_back([&] { io.run(); });

    std::mutex mutex;
    std::set<std::string> answered;
    std::vector<std::string> failures;
    std::atomic<int> done{0};
    auto send_one = [&](std::string tag) {
        asio::co_spawn(
            io,
            [client, tag]() -> asio::awaitable<std::string> {
                courier::outgoing_message m{.body = tag};
                co_return co_await client->send("http://127.0.0.1/000000000000/threads", std::move(m));
            },
            [&, tag](std::exception_ptr e, std::string id) {
                std::lock_guard lock(mutex);
                if (e)
                    failures.push_back(tag);
                else if (id != tag)
                    failures.push_back(tag + " answered as " + id);
                else
                    answered.insert(id);
                ++done;
            });
    };
    for (int i = 0; i < from_pool; ++i)
        send_one("pool-" + std::to_string(i));
    std::vector<std::thread> senders;
    for (int t = 0; t < 2; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < from_threads / 2; ++i)
                send_one("thread-" + std::to_string(t) + "-" + std::to_string(i));
        });
    for (auto& s : senders)
        s.join();
    // Sixty loopback requests take tens of ms: the limit only catches a hang.
    const auto deadline = std::chrono::steady_clock::now() + courier_test::hang_guard;
    while (done < from_pool + from_threads && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    // Pooled keep-alive connections keep the io_context busy: stop it, then destroy the
    // client with no thread left running its handlers.
    work.reset();
    io.stop();
    for (auto& t : pool)
        t.join();
    client.reset();
    server_io.stop();
    server_thread.join();

    CHECK(done == from_pool + from_threads);
    CHECK(failures.empty());
    CHECK(answered.size() == static_cast<std::size_t>(from_pool + from_threads));
    CHECK(served == from_pool + from_threads);
}
