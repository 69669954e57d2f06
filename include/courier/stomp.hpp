// STOMP 1.2 (RabbitMQ's rabbitmq_stomp, ActiveMQ, Artemis): the client with its receipted
// publishers, and the provider.
#ifndef COURIER_STOMP_HPP
#define COURIER_STOMP_HPP

#include <courier/stomp/client.hpp>
#include <courier/stomp/options.hpp>
#include <courier/stomp/provider.hpp>

#endif
