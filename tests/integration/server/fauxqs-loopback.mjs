// The SQS/SNS server courier's integration tests run against: fauxqs's exported buildApp()
// listening on a loopback address only, request logging off, announced on stdout with one
// line, `listening <port> <pid>`, which tests/integration/fauxqs_server.cpp reads.
//
// Why not fauxqs's own CLI (`fauxqs`, dist/cli.js)? In fauxqs 2.4.1 it calls
// startFauxqs({ logger: true }), and startFauxqs() hard-codes host "0.0.0.0" in its
// listen() call: FAUXQS_HOST only changes the host written into queue URLs, and the
// `logger: true` option beats FAUXQS_LOGGER=false. So the CLI listens on every interface
// and logs each request as JSON to stdout. buildApp() is the same Fastify app (routes,
// stores, body parsers) without the listen() call. What startFauxqs() adds around it,
// persistence (FAUXQS_DATA_DIR), message spies and FAUXQS_INIT, the tests do not use.
//
// The process never outlives the test that started it:
// - SIGTERM or SIGINT closes the server and exits 0 (the C++ fixture stops it by pid);
// - end of stdin exits too: the fixture holds the write end of a pipe on our stdin, and
//   the kernel closes it when the test process dies, even by SIGKILL or a crash;
// - after --max-seconds (default 1800) it exits by itself, in case both were missed.
// Run by hand from a terminal, it runs until Ctrl-C or Ctrl-D; with `</dev/null` it would
// exit at once, so pass --no-stdin-watch there.
//
// Usage: node fauxqs-loopback.mjs [--port N] [--host ADDR] [--max-seconds S]
//                                 [--no-stdin-watch] [--log]
// Environment fallbacks: FAUXQS_PORT, FAUXQS_LISTEN_HOST, FAUXQS_MAX_SECONDS,
// FAUXQS_LOGGER=true. Also read by fauxqs: FAUXQS_HOST (host in queue URLs) and
// FAUXQS_DEFAULT_REGION. Port 0 (the default) lets the kernel pick a free port, which
// avoids the race of picking one first and binding it later.
import { parseArgs } from "node:util";

import { buildApp } from "fauxqs";

const name = "fauxqs-loopback";

function fail(message) {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
}

let args;
try {
    args = parseArgs({
        options: {
            port: { type: "string" },
            host: { type: "string" },
            "max-seconds": { type: "string" },
            "no-stdin-watch": { type: "boolean", default: false },
            log: { type: "boolean", default: false },
        },
        strict: true,
    }).values;
} catch (err) {
    fail(err.message);
}

const port_text = args.port ?? process.env.FAUXQS_PORT ?? "0";
const host = args.host ?? process.env.FAUXQS_LISTEN_HOST ?? "127.0.0.1";
const max_seconds_text = args["max-seconds"] ?? process.env.FAUXQS_MAX_SECONDS ?? "1800";
const log = args.log || process.env.FAUXQS_LOGGER === "true";

const port = /^\d+$/.test(port_text) ? Number(port_text) : NaN;
if (!(port >= 0 && port <= 65535)) {
    fail(`bad port '${port_text}' (0-65535; 0 picks a free one)`);
}
// Literal addresses only: a name such as "localhost" could resolve to anything.
if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== "::1") {
    fail(`refusing to listen on '${host}': only 127.0.0.0/8 and ::1 are allowed`);
}
const max_seconds = Number(max_seconds_text);
// Node timers hold at most 2^31 - 1 ms and fire at once when given more.
if (!(max_seconds > 0 && max_seconds * 1000 <= 2 ** 31 - 1)) {
    fail(`bad max seconds '${max_seconds_text}' (0 < S <= 2147483)`);
}

// stdout carries only the `listening` line: the fixture may close its end after reading
// it, and a later write would then fail with EPIPE. Any logging goes to stderr.
process.stdout.on("error", () => {});

const app = buildApp({
    logger: log ? { level: "info", stream: process.stderr } : false,
    host: process.env.FAUXQS_HOST,
    defaultRegion: process.env.FAUXQS_DEFAULT_REGION,
});

let closing = false;
async function shutdown(reason, code) {
    if (closing) {
        return;
    }
    closing = true;
    if (reason) {
        process.stderr.write(`${name}: stopping: ${reason}\n`);
    }
    // app.close() ends open keep-alive connections (buildApp sets forceCloseConnections);
    // the timer only guards against a close that never completes.
    setTimeout(() => process.exit(code), 3000).unref();
    try {
        await app.close();
    } finally {
        process.exit(code);
    }
}
// A stop asked for by signal is the normal end: no message.
process.on("SIGTERM", () => shutdown(null, 0));
process.on("SIGINT", () => shutdown(null, 0));

try {
    await app.listen({ port, host });
} catch (err) {
    process.stderr.write(`${name}: cannot listen on ${host}:${port}: ${err.message}\n`);
    process.exit(1);
}

if (!args["no-stdin-watch"]) {
    // Reading is what makes Node notice the end of the pipe; the data itself is ignored.
    process.stdin.on("data", () => {});
    process.stdin.on("end", () => shutdown("stdin closed: whoever started us is gone", 0));
    process.stdin.on("error", () => shutdown("stdin failed", 0));
}

// unref(): the timer must not be what keeps the process alive, only end it.
setTimeout(() => shutdown(`--max-seconds ${max_seconds} elapsed`, 3), max_seconds * 1000).unref();

const bound_port = app.server.address().port;
process.stdout.write(`listening ${bound_port} ${process.pid}\n`);
