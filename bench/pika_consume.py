#!/usr/bin/python3
"""The peer of bench/compare-broker: what a Python service would run with pika, Debian's
python3-pika (1.2), the RabbitMQ team's own Python client and the one its tutorials use.

Consumes --messages messages from --queue with a prefetch of --prefetch on a
BlockingConnection, decodes each JSON body as courier-load's handler does, acknowledges it
after the "handler" (basic_ack, one per message, as after success), and prints one JSON line
with the same fields as courier-load's: seconds and CPU from the first message to the last ack.
"""
import argparse
import json
import resource
import time

import pika


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime, u.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--prefetch", type=int, default=100)
    a = p.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(a.url))
    channel = connection.channel()
    channel.queue_declare(queue=a.queue, durable=True)
    channel.basic_qos(prefetch_count=a.prefetch)
    state = {"n": 0, "seen": set(), "start": None}

    def on_message(ch, method, properties, body):
        if state["start"] is None:
            state["start"] = (time.monotonic(), cpu())
        seq = json.loads(body)["seq"]
        state["seen"].add(seq)
        state["n"] += 1
        ch.basic_ack(delivery_tag=method.delivery_tag)
        if len(state["seen"]) >= a.messages:
            ch.stop_consuming()

    channel.basic_consume(queue=a.queue, on_message_callback=on_message)
    channel.start_consuming()
    end = (time.monotonic(), cpu())
    connection.close()
    (t0, (u0, s0)) = state["start"]
    (t1, (u1, s1)) = end
    secs = t1 - t0
    handled = len(state["seen"])
    print(json.dumps({
        "peer": "pika", "messages": a.messages, "seconds": round(secs, 4),
        "msgs_per_s": round(handled / secs, 1), "cpu_user_s": round(u1 - u0, 4), "cpu_sys_s": round(s1 - s0, 4),
        "cpu_us_per_msg": round((u1 - u0 + s1 - s0) * 1e6 / handled, 2),
        "duplicates": state["n"] - handled, "lost": a.messages - handled, "mode": "consume",
        "concurrency": a.prefetch}))


if __name__ == "__main__":
    main()
