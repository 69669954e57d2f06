// fault-proxy: an HTTP/1.1 proxy between courier and an SQS endpoint (fauxqs) that injects
// the failures a real network and a real SQS produce, each with its own probability, so
// the reliability tests can check that nothing is lost and count what is duplicated.
//
// Faults (one at most per request, drawn with a seeded generator so a failing run can be
// replayed with the same --seed and the same traffic):
//   drop-request      the connection is reset after the request arrived, before anything is
//                     forwarded: the server never saw it.
//   drop-response     the request is forwarded and answered by the server, then the proxy
//                     sends the status line, the headers and half of the body and resets:
//                     the server DID the work (deleted the messages, handed out a batch).
//   status-500        500 InternalError   } each either instead of forwarding or after the
//   status-503        503 without a body  } server processed the request (--after decides,
//   throttling        400 ThrottlingException    } default 0.5), as the AWS JSON 1.0
//   request-throttled 400 RequestThrottled       } protocol spells them: x-amzn-query-error
//   service-unavailable 503 ServiceUnavailable   } "<code>;Sender|Receiver" and "__type".
//   delay             the server's answer is held back --delay-ms (default 8000), past the
//                     client's timeout, then sent (to a client that may have gone).
//   truncate          200 with the first half of the real body and a Content-Length that
//                     matches it: well-formed HTTP, cut JSON.
//   garbage           200 with random bytes of the real body's length.
// The "after processing" cases are the hard ones: a DeleteMessageBatch that did delete, or a
// ReceiveMessage whose messages are now invisible; the client sees a failure, so a lost
// receive's messages come back after the visibility timeout (a duplicate, never a loss).
//
// Usage: node fault-proxy.mjs --target http://127.0.0.1:PORT [--port 0] [--seed N]
//          [--stats FILE] [--delay-ms MS] [--after P] [--<fault> P ...] [--no-stdin-watch]
// Prints `listening <port> <pid>` once it accepts connections. At exit (SIGTERM, SIGINT, end
// of stdin) it writes its counts as one JSON object to --stats and to stdout:
// {"requests":N,"faults":{"<fault>":n,...},"by_action":{"<Action>":{"<fault>":n}},
//  "after_processing":{"<Action>":n}}. Loopback only: it listens on 127.0.0.1 and refuses
// a non-loopback target.
import { writeFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";

import { seed_from, seeded_random } from "./seeded_random.mjs";

const name = "fault-proxy";
const fault_names = [
    "drop-request", "drop-response", "status-500", "status-503", "throttling",
    "request-throttled", "service-unavailable", "delay", "truncate", "garbage",
];

function fail(message) {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
}

let args;
try {
    const options = {
        target: { type: "string" },
        port: { type: "string", default: "0" },
        seed: { type: "string" },
        stats: { type: "string" },
        "delay-ms": { type: "string", default: "8000" },
        after: { type: "string", default: "0.5" },
        "no-stdin-watch": { type: "boolean", default: false },
    };
    for (const f of fault_names)
        options[f] = { type: "string", default: "0" };
    args = parseArgs({ options, strict: true }).values;
} catch (err) {
    fail(err.message);
}

function probability(flag) {
    const p = Number(args[flag]);
    if (!(p >= 0 && p <= 1))
        fail(`--${flag}: expected a probability in [0, 1], got '${args[flag]}'`);
    return p;
}
const p = Object.fromEntries(fault_names.map((f) => [f, probability(f)]));
const p_after = probability("after");
const total_p = Object.values(p).reduce((a, b) => a + b, 0);
if (total_p > 1)
    fail(`the fault probabilities add up to ${total_p} > 1`);
const delay_ms = Number(args["delay-ms"]);
if (!(delay_ms >= 0))
    fail("--delay-ms: expected a number of milliseconds");
if (!args.target)
    fail("--target http://127.0.0.1:PORT is required");
const target = new URL(args.target);
if (target.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(target.hostname))
    fail(`--target must be a loopback http:// URL, got '${args.target}'`);
const port = Number(args.port);
if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    fail(`--port: expected 0..65535, got '${args.port}'`);

// Reproducible from the printed seed.
const seed = seed_from(args.seed);
const random = seeded_random(seed);

// One uniform draw picks at most one fault: the faults own consecutive slices of [0, 1).
function pick_fault() {
    let r = random();
    for (const f of fault_names) {
        if (r < p[f])
            return f;
        r -= p[f];
    }
    return null;
}

const stats = { seed, requests: 0, faults: {}, by_action: {}, after_processing: {} };
for (const f of fault_names)
    stats.faults[f] = 0;
function count(action, fault, after) {
    stats.faults[fault] += 1;
    stats.by_action[action] ??= {};
    stats.by_action[action][fault] = (stats.by_action[action][fault] ?? 0) + 1;
    if (after)
        stats.after_processing[action] = (stats.after_processing[action] ?? 0) + 1;
}

// The error answers, as SQS sends them in the AWS JSON 1.0 protocol (SQS developer guide,
// "Interpreting Amazon SQS JSON API responses"): the query-compatible code and the fault
// side in x-amzn-query-error, the namespaced type in "__type".
const error_answers = {
    "status-500": {
        status: 500, query: "InternalError;Receiver",
        body: { __type: "com.amazonaws.sqs#InternalError", message: "Injected internal error" },
    },
    "status-503": { status: 503, query: null, body: null },
    throttling: {
        status: 400, query: "ThrottlingException;Sender",
        body: { __type: "com.amazon.coral.availability#ThrottlingException", message: "Rate exceeded" },
    },
    "request-throttled": {
        status: 400, query: "RequestThrottled;Sender",
        body: { __type: "com.amazonaws.sqs#RequestThrottled", message: "Request is throttled." },
    },
    "service-unavailable": {
        status: 503, query: "ServiceUnavailable;Receiver",
        body: { __type: "com.amazonaws.sqs#ServiceUnavailable", message: "Service is unavailable." },
    },
};

let request_ids = 0;
function send_error(res, answer) {
    const body = answer.body ? Buffer.from(JSON.stringify(answer.body)) : Buffer.alloc(0);
    const headers = {
        "x-amzn-RequestId": `fault-proxy-${++request_ids}`,
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": body.length,
    };
    if (answer.query)
        headers["x-amzn-query-error"] = answer.query;
    res.writeHead(answer.status, headers);
    res.end(body);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// Forwards the request; resolves with the server's status, headers and whole body.
function forward(req, body) {
    return new Promise((resolve, reject) => {
        const headers = { ...req.headers };
        delete headers.connection;
        const out = http.request({
            agent, host: target.hostname.replace(/^\[|\]$/g, ""), port: target.port,
            method: req.method, path: req.url, headers,
        }, (answer) => {
            const chunks = [];
            answer.on("data", (c) => chunks.push(c));
            answer.on("end", () => resolve({
                status: answer.statusCode, headers: answer.headers, body: Buffer.concat(chunks),
            }));
            answer.on("error", reject);
        });
        out.on("error", reject);
        out.end(body);
    });
}

function relay(res, answer, body = answer.body, status = answer.status) {
    const headers = { ...answer.headers };
    for (const h of ["connection", "keep-alive", "transfer-encoding", "content-length"])
        delete headers[h];
    headers["content-length"] = body.length;
    res.writeHead(status, headers);
    res.end(body);
}

function reset(socket) {
    // resetAndDestroy sends an RST where the platform allows it: the client sees
    // "connection reset", not a clean end of stream.
    if (typeof socket.resetAndDestroy === "function")
        socket.resetAndDestroy();
    else
        socket.destroy();
}

async function handle(req, res, body) {
    stats.requests += 1;
    const target_header = req.headers["x-amz-target"] ?? "";
    const action = target_header.slice(target_header.lastIndexOf(".") + 1) || "unknown";
    const fault = pick_fault();
    if (fault === null)
        return relay(res, await forward(req, body));
    if (fault === "drop-request") {
        count(action, fault, false);
        return reset(req.socket);
    }
    if (fault in error_answers) {
        const after = random() < p_after;
        if (after)
            await forward(req, body); // the server acts; the client hears an error
        count(action, fault, after);
        return send_error(res, error_answers[fault]);
    }
    const answer = await forward(req, body);
    count(action, fault, true);
    switch (fault) {
    case "drop-response": {
        const headers = { ...answer.headers };
        for (const h of ["connection", "keep-alive", "transfer-encoding"])
            delete headers[h];
        headers["content-length"] = answer.body.length;
        res.writeHead(answer.status, headers);
        res.flushHeaders();
        res.write(answer.body.subarray(0, answer.body.length >> 1), () => reset(req.socket));
        return;
    }
    case "delay":
        await new Promise((resolve) => setTimeout(resolve, delay_ms));
        if (!req.socket.destroyed)
            relay(res, answer);
        return;
    case "truncate":
        return relay(res, answer, answer.body.subarray(0, answer.body.length >> 1), 200);
    case "garbage": {
        const junk = Buffer.alloc(Math.max(answer.body.length, 16));
        for (let i = 0; i < junk.length; ++i)
            junk[i] = (random() * 256) | 0;
        return relay(res, answer, junk, 200);
    }
    }
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        handle(req, res, Buffer.concat(chunks)).catch((err) => {
            // The server failed or went away: the client gets a 502, which is what a real
            // proxy answers, and the error is reported, not injected.
            stats.upstream_errors = (stats.upstream_errors ?? 0) + 1;
            if (!res.headersSent && !req.socket.destroyed)
                send_error(res, { status: 502, query: null, body: { message: String(err) } });
        });
    });
});
server.on("clientError", (err, socket) => socket.destroy());

let finished = false;
function finish(code) {
    if (finished)
        return;
    finished = true;
    const text = JSON.stringify(stats);
    if (args.stats)
        writeFileSync(args.stats, text + "\n");
    process.stdout.write(text + "\n", () => process.exit(code));
}
process.on("SIGTERM", () => finish(0));
process.on("SIGINT", () => finish(0));
if (!args["no-stdin-watch"]) {
    // The test that started us holds our stdin; when it dies, even by SIGKILL, we go too.
    process.stdin.on("end", () => finish(0));
    process.stdin.on("error", () => finish(0));
    process.stdin.resume();
}

server.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port} ${process.pid} seed ${seed}\n`);
});
