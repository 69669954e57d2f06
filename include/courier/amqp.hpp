// AMQP 0-9-1 (RabbitMQ): the client with its confirmed publishers, and the provider.
#ifndef COURIER_AMQP_HPP
#define COURIER_AMQP_HPP

#include <courier/amqp/client.hpp>
#include <courier/amqp/options.hpp>
#include <courier/amqp/provider.hpp>

#endif
