// sqs-consumer-rss.cjs: peak memory of the Node peer, sqs-consumer 15, while it holds a given
// number of messages in flight. The counterpart of `courier-load consume --handler-delay-ms`
// for bench/memory-rss; the queue is filled beforehand (by courier-load produce), so the
// process does nothing but consume.
//
//   NODE_PATH=../shared/peers/node_modules ../shared/peers/node_modules/.bin/node \
//       bench/sqs-consumer-rss.cjs --endpoint http://127.0.0.1:4611 --queue-url URL \
//       --messages M --in-flight N --delay-ms D
//
// In flight N = ceil(N / 10) Consumer instances (sqs-consumer has no concurrency option:
// one Consumer runs one receive -> handle -> delete loop) with batchSize min(N, 10), in
// handleMessage mode (its default: the messages of a receive are handled in parallel and
// deleted one by one). The handler parses the body and waits D ms. Stops when M messages
// were processed (deleted) and prints one JSON line with VmHWM (peak RSS) and the peak
// number of handlers running at once.
"use strict";
const fs = require("node:fs");
const { SQSClient } = require("@aws-sdk/client-sqs");
const { Consumer } = require("sqs-consumer");

function args() {
  const out = { endpoint: "", queueUrl: "", messages: 0, inFlight: 1, delayMs: 50 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const v = a[i + 1];
    if (a[i] === "--endpoint") out.endpoint = v;
    else if (a[i] === "--queue-url") out.queueUrl = v;
    else if (a[i] === "--messages") out.messages = Number(v);
    else if (a[i] === "--in-flight") out.inFlight = Number(v);
    else if (a[i] === "--delay-ms") out.delayMs = Number(v);
    else throw new Error(`unknown argument ${a[i]}`);
  }
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(out.endpoint)) throw new Error("--endpoint must be http://127.0.0.1:PORT");
  if (!out.queueUrl || !(out.messages > 0) || !(out.inFlight > 0)) throw new Error("--queue-url, --messages, --in-flight");
  return out;
}

function kib(field) {
  const m = fs.readFileSync("/proc/self/status", "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) : 0;
}

async function main() {
  const o = args();
  const client = new SQSClient({
    endpoint: o.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const batchSize = Math.min(10, o.inFlight);
  const consumers = Math.ceil(o.inFlight / batchSize);
  let running = 0;
  let peak = 0;
  let processed = 0;
  const errors = [];
  const start = process.hrtime.bigint();
  await new Promise((resolve) => {
    for (let i = 0; i < consumers; i++) {
      const c = Consumer.create({
        queueUrl: o.queueUrl,
        sqs: client,
        batchSize,
        waitTimeSeconds: 1,
        handleMessage: async (m) => {
          running++;
          if (running > peak) peak = running;
          JSON.parse(m.Body);
          await new Promise((r) => setTimeout(r, o.delayMs));
          running--;
          return m;
        },
      });
      c.on("message_processed", () => {
        if (++processed === o.messages) resolve();
      });
      for (const ev of ["error", "processing_error", "timeout_error"])
        c.on(ev, (e) => errors.push(String(e?.message ?? e)));
      c.start();
      (globalThis.__consumers ??= []).push(c);
    }
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const line = {
    peer: "sqs-consumer",
    mode: "handleMessage",
    in_flight: o.inFlight,
    consumers,
    batch_size: batchSize,
    handler_delay_ms: o.delayMs,
    messages: o.messages,
    seconds: Number(seconds.toFixed(3)),
    in_flight_peak: peak,
    peak_rss_kib: kib("VmHWM"),
    rss_kib: kib("VmRSS"),
    errors: errors.slice(0, 3),
    node: process.version,
  };
  console.log(JSON.stringify(line));
  for (const c of globalThis.__consumers) c.stop({ abort: true });
  process.exit(0);
}

main().catch((e) => {
  console.log(JSON.stringify({ peer: "sqs-consumer", ok: false, error: String(e?.stack ?? e) }));
  process.exit(1);
});
