// Events: typed named events (events/event.hpp), where their names travel
// (events/name_location.hpp), the router that dispatches a route's messages to listeners
// (events/router.hpp), the bus that sends them (events/bus.hpp), envelope pipelines
// (events/pipeline.hpp) with correlation-id propagation (events/correlation.hpp), and the
// media-type producer (events/media_type_producer.hpp).
#ifndef COURIER_EVENTS_HPP
#define COURIER_EVENTS_HPP

#include <courier/events/bus.hpp>
#include <courier/events/choreography.hpp>
#include <courier/events/correlation.hpp>
#include <courier/events/event.hpp>
#include <courier/events/media_type_producer.hpp>
#include <courier/events/name_location.hpp>
#include <courier/events/pipeline.hpp>
#include <courier/events/router.hpp>

#endif
