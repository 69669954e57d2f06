// rabbitmq-runner: one RabbitMQ (tests/integration/rabbitmq_server.hpp) for scripts, the
// broker soaks of tests/faults/soak-broker.mjs among them.
//
// Prints `listening AMQP_PORT STOMP_PORT PID` once the broker is ready, then reads commands,
// one a line, and answers each with its output followed by an empty line and a line `end`:
//   restart            stops the broker and starts it again on the same ports and data
//   ctl ARGS...        rabbitmqctl ARGS (e.g. `ctl list_queues name messages_ready`)
// End of input (the script exits, or dies) stops the broker and its epmd, waits for them and
// removes the data folder; so does SIGTERM. Everything runs on the main thread, which the
// children's PR_SET_PDEATHSIG is tied to.
#include "rabbitmq_server.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <signal.h>
#include <string>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int)
{
    stop_requested = 1;
}

} // namespace

int main()
{
    try
    {
        courier_test::rabbitmq_server broker;
        // Without SA_RESTART: a signal interrupts the read, and the loop ends.
        struct sigaction action
        {
        };
        action.sa_handler = on_signal;
        ::sigaction(SIGTERM, &action, nullptr);
        ::sigaction(SIGINT, &action, nullptr);
        std::cout << "listening " << broker.amqp_port() << " " << broker.stomp_port() << " " << broker.pid()
                  << std::endl;
        std::string line;
        while (!stop_requested && std::getline(std::cin, line))
        {
            try
            {
                if (line == "restart")
                    broker.restart();
                else if (line.rfind("ctl ", 0) == 0)
                    std::cout << broker.ctl(line.substr(4));
                else if (!line.empty())
                    std::cout << "error: unknown command '" << line << "'\n";
            }
            catch (const std::exception& e)
            {
                std::cout << "error: " << e.what() << "\n";
            }
            std::cout << "\nend" << std::endl; // an answer ends in a line "end" after an empty one
        }
        return 0;
    }
    catch (const std::exception& e)
    {
        std::cerr << "rabbitmq-runner: " << e.what() << "\n";
        return 1;
    }
}
