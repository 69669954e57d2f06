// Everything a service needs: include this one header.
#ifndef COURIER_COURIER_HPP
#define COURIER_COURIER_HPP

#include <courier/amqp.hpp>
#include <courier/backoff.hpp>
#include <courier/clock.hpp>
#include <courier/context.hpp>
#include <courier/dispatcher.hpp>
#include <courier/error.hpp>
#include <courier/error_handler.hpp>
#include <courier/events.hpp>
#include <courier/handler.hpp>
#include <courier/json.hpp>
#include <courier/json_encode.hpp>
#include <courier/logger.hpp>
#include <courier/manager.hpp>
#include <courier/memory/provider.hpp>
#include <courier/message.hpp>
#include <courier/provider.hpp>
#include <courier/publisher.hpp>
#include <courier/route.hpp>
#include <courier/route_options.hpp>
#include <courier/route_stats.hpp>
#include <courier/settlement.hpp>
#include <courier/sns.hpp>
#include <courier/sqs.hpp>
#include <courier/stomp.hpp>
#include <courier/translator.hpp>

#endif
