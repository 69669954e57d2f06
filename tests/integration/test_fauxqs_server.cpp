// Tests of the integration-test server fixture itself (fauxqs_server.hpp): it starts fauxqs
// on a free port, answers /health, listens on 127.0.0.1 and nowhere else, speaks SQS's AWS
// JSON 1.0 protocol, and leaves no process behind, neither when stopped nor when the test
// process dies without stopping it. If these fail, every other integration test would fail
// for reasons that have nothing to do with courier.
#include "fauxqs_server.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using courier_test::fauxqs_options;
using courier_test::fauxqs_server;
using courier_test::http_request;

namespace {

struct listening_socket
{
    std::string local_address; // hex, as the kernel prints it (0100007F = 127.0.0.1)
};

// The listening sockets on `port` in /proc/net/tcp or tcp6: each line holds
// "sl local_address:port rem_address:port st ...", addresses and port in hex, and st 0A
// means LISTEN.
std::vector<listening_socket> listeners(const char* table, std::uint16_t port)
{
    std::vector<listening_socket> result;
    std::ifstream in(table);
    std::string line;
    std::getline(in, line); // column titles
    char wanted_port[8];
    std::snprintf(wanted_port, sizeof wanted_port, "%04X", port);
    while (std::getline(in, line))
    {
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        fields >> slot >> local >> remote >> state;
        auto colon = local.rfind(':');
        if (state == "0A" && colon != std::string::npos && local.substr(colon + 1) == wanted_port)
            result.push_back({local.substr(0, colon)});
    }
    return result;
}

// Reaps `pid`, a child of ours, if it ends within `limit`; its wait status goes to `status`.
bool reap_within(pid_t pid, std::chrono::milliseconds limit, int& status)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;)
    {
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace

TEST_CASE("fauxqs_server: starts on a loopback port, speaks SQS JSON, stops by pid")
{
    auto started = std::chrono::steady_clock::now();
    fauxqs_server server;
    auto startup = std::chrono::steady_clock::now() - started;
    MESSAGE("fauxqs started in " << std::chrono::duration_cast<std::chrono::milliseconds>(startup).count()
                                 << " ms on port " << server.port() << ", pid " << server.pid());

    REQUIRE(server.running());
    CHECK(server.port() != 0);
    CHECK(server.pid() > 0);
    CHECK(server.endpoint() == "http://127.0.0.1:" + std::to_string(server.port()));

    // One server for all the checks below, in order, rather than SUBCASEs: doctest reruns
    // the whole case, start-up included, for each subcase.
    auto health = http_request(server.port(), "GET", "/health");
    CHECK(health.status == 200);
    CHECK(health.body == R"({"status":"ok"})");

    auto v4 = listeners("/proc/net/tcp", server.port());
    REQUIRE(v4.size() == 1);
    CHECK(v4[0].local_address == "0100007F"); // 127.0.0.1, not 00000000 (0.0.0.0)
    CHECK(listeners("/proc/net/tcp6", server.port()).empty());

    // Unsigned on purpose: fauxqs needs no Authorization (it only reads the region from
    // a SigV4 credential scope when there is one).
    auto created =
        http_request(server.port(), "POST", "/",
                     {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "AmazonSQS.CreateQueue"}},
                     R"({"QueueName":"probe"})");
    CHECK(created.status == 200);
    CHECK(created.header("content-type").rfind("application/x-amz-json-1.0", 0) == 0);
    CHECK(created.body == R"({"QueueUrl":"http://sqs.us-east-1.localhost:)" + std::to_string(server.port()) +
                              R"(/000000000000/probe"})");

    pid_t pid = server.pid();
    server.stop();
    int killed = ::kill(pid, 0);
    int error = errno;
    CHECK_FALSE(server.running());
    CHECK(killed == -1);
    CHECK(error == ESRCH);
    CHECK_THROWS_AS(http_request(server.port(), "GET", "/health"), std::runtime_error);
    server.stop(); // idempotent
    CHECK(server.pid() == pid);
}

TEST_CASE("fauxqs_server: the server exits when the process that started it dies")
{
    // A child process starts a server, reports its pid and dies without running any
    // destructor, as a crashing test would. Meanwhile this process is a "child subreaper",
    // so the orphaned server becomes our child and we can wait for it. Otherwise it would
    // go to pid 1, which in some containers never reaps, and stay a zombie.
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0)
    {
        ::close(report[0]);
        pid_t server_pid = -1;
        try
        {
            auto* server = new fauxqs_server(); // leaked on purpose: no stop()
            server_pid = server->pid();
        }
        catch (...)
        {
        }
        (void)!::write(report[1], &server_pid, sizeof server_pid);
        ::_exit(0);
    }
    ::close(report[1]);
    pid_t server_pid = -1;
    auto n = ::read(report[0], &server_pid, sizeof server_pid);
    ::close(report[0]);
    int status = 0;
    ::waitpid(child, &status, 0);

    bool exited = false;
    if (n == static_cast<ssize_t>(sizeof server_pid) && server_pid > 0)
    {
        // Node exits within a fraction of a second on an idle machine; the wait ends as soon
        // as it does, and 30 s holds at a 20x slowdown.
        exited = reap_within(server_pid, std::chrono::seconds(30), status);
        if (!exited)
        {
            ::kill(server_pid, SIGKILL); // do not leave it behind, even when failing
            ::waitpid(server_pid, nullptr, 0);
        }
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);

    REQUIRE(n == static_cast<ssize_t>(sizeof server_pid));
    REQUIRE(server_pid > 0);
    CHECK(exited);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0); // the launcher's clean exit on end of stdin
}

TEST_CASE("fauxqs_server: a missing install names the script that installs it")
{
    fauxqs_options options;
    options.node = "/nonexistent/node";
    try
    {
        fauxqs_server server(options);
        FAIL("the server started without a node binary");
    }
    catch (const std::runtime_error& e)
    {
        CHECK(std::string(e.what()).find("tools/install-test-deps.sh") != std::string::npos);
    }
}
