#!/usr/bin/python3
"""The STOMP peer of bench/compare-broker: what a Python service would run with stomp.py,
Debian's python3-stomp (8.0), the STOMP client Python users pick (RabbitMQ's STOMP guide
points to it).

Subscribes to /queue/--queue with `ack: client-individual` and a prefetch of --prefetch
(RabbitMQ's `prefetch-count`), decodes each JSON body as courier-load's handler does,
acknowledges it after the "handler" (ACK, one per message, as after success), and prints one
JSON line with the same fields as courier-load's: seconds and CPU (every thread of the
process) from the first message to the last ack.
"""
import argparse
import json
import resource
import threading
import time
import urllib.parse

import stomp


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime, u.ru_stime


class Consumer(stomp.ConnectionListener):
    def __init__(self, connection, messages):
        self.connection = connection
        self.messages = messages
        self.n = 0
        self.seen = set()
        self.start = None
        self.end = None
        self.done = threading.Event()

    def on_message(self, frame):
        if self.start is None:
            self.start = (time.monotonic(), cpu())
        seq = json.loads(frame.body)["seq"]
        self.seen.add(seq)
        self.n += 1
        self.connection.ack(frame.headers["ack"])
        if len(self.seen) >= self.messages and not self.done.is_set():
            self.end = (time.monotonic(), cpu())
            self.done.set()

    def on_error(self, frame):
        print("stomp error:", frame.headers.get("message"), frame.body, flush=True)
        self.done.set()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True, help="stomp://user:pass@host:port/vhost")
    p.add_argument("--queue", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--prefetch", type=int, default=100)
    a = p.parse_args()

    url = urllib.parse.urlparse(a.url)
    vhost = urllib.parse.unquote(url.path[1:]) or "/"
    connection = stomp.Connection12([(url.hostname, url.port)], vhost=vhost)
    consumer = Consumer(connection, a.messages)
    connection.set_listener("consumer", consumer)
    connection.connect(url.username, url.password, wait=True)
    connection.subscribe(destination="/queue/" + a.queue, id="1", ack="client-individual",
                         headers={"prefetch-count": str(a.prefetch)})
    consumer.done.wait()
    connection.disconnect()
    if consumer.end is None:
        raise SystemExit("stomppy_consume: stopped before the last message")
    (t0, (u0, s0)) = consumer.start
    (t1, (u1, s1)) = consumer.end
    secs = t1 - t0
    handled = len(consumer.seen)
    print(json.dumps({
        "peer": "stomp.py", "messages": a.messages, "seconds": round(secs, 4),
        "msgs_per_s": round(handled / secs, 1), "cpu_user_s": round(u1 - u0, 4), "cpu_sys_s": round(s1 - s0, 4),
        "cpu_us_per_msg": round((u1 - u0 + s1 - s0) * 1e6 / handled, 2),
        "duplicates": consumer.n - handled, "lost": a.messages - handled, "mode": "consume",
        "concurrency": a.prefetch}))


if __name__ == "__main__":
    main()
