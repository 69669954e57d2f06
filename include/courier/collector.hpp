// The collector queue (courier's in-process event collector), all of it: collectors,
// payloads, the queue, its publisher and events, routers, and the bridge from routes.
//
//     namespace ec = courier::event_collector;
//
// The names follow the event-collector library it ports (Collector, Payload, Context,
// CollectorQueue, EventPublisher, CollectorEvent, Result/Ok/Error, ResultList, Router)
// in snake_case.
#ifndef COURIER_COLLECTOR_HPP
#define COURIER_COLLECTOR_HPP

#include <courier/collector/collector.hpp>
#include <courier/collector/collector_queue.hpp>
#include <courier/collector/context.hpp>
#include <courier/collector/errc.hpp>
#include <courier/collector/event.hpp>
#include <courier/collector/payload.hpp>
#include <courier/collector/publisher.hpp>
#include <courier/collector/queue_options.hpp>
#include <courier/collector/result.hpp>
#include <courier/collector/route_bridge.hpp>
#include <courier/collector/router.hpp>

#endif
