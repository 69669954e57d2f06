// The reliability soaks of issue 16, on RabbitMQ, for one transport (amqp or stomp), each run
// as a meson test (suite 'soak') with a broker of its own (build/tests/integration/rabbitmq-runner):
//
//   crash    20,000 messages; `courier-load consume --broker-url` SIGKILLed at three random
//            moments and restarted each time. Checks: 0 lost; a seq handled again after a kill
//            comes only from the killed run, at most the in-flight limit per kill; the queue
//            empty at the end (nothing ready, nothing unacknowledged).
//   restart  20,000 messages; the broker restarted while one consumer runs. Checks: the
//            consumer reconnects by itself and handles all 20,000 (0 lost), duplicates at
//            most what it held at the restart, exit 0, the queue empty.
//   sigterm  SIGTERM while 50 slow handlers run. Checks: exit 0; every started handler
//            finished; the broker holds exactly N - finished messages, none unacknowledged;
//            a restarted consumer never sees an acknowledged one, and nothing is lost.
//
// Usage: node soak-broker.mjs amqp|stomp --load build/tools/courier-load
//          --runner build/tests/integration/rabbitmq-runner [--messages N] [--seed S] [--keep]
// Prints one JSON summary line; exit status 0 pass, 1 fail.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { seed_from, seeded_random } from "./seeded_random.mjs";

const { values: args, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        load: { type: "string" },
        runner: { type: "string" },
        messages: { type: "string", default: "20000" },
        seed: { type: "string" },
        keep: { type: "boolean", default: false },
    },
});
const transport = positionals[0];
if (!["amqp", "stomp"].includes(transport) || !args.load || !args.runner) {
    process.stderr.write("usage: soak-broker.mjs amqp|stomp --load PATH --runner PATH [--messages N]\n");
    process.exit(2);
}
const total = Number(args.messages);
const seed = seed_from(args.seed);
const random = seeded_random(seed);
const work = mkdtempSync(path.join(tmpdir(), `courier-soak-broker-${transport}-`));

function log(message) {
    process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${transport}: ${message}\n`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- processes --------------------------------------------------------------------------

const children = new Set();
function cleanup() {
    for (const child of children)
        if (child.exitCode === null && child.signalCode === null)
            try { process.kill(child.pid, child.is_runner ? "SIGTERM" : "SIGKILL"); } catch { /* gone */ }
    children.clear();
    if (!args.keep)
        rmSync(work, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.on(signal, () => { log(`${signal}: stopping`); process.exit(1); });

function track(child) {
    children.add(child);
    child.exited = new Promise((resolve) => child.on("exit", (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
    }));
    return child;
}

// The broker: started by rabbitmq-runner, which stops it (and epmd) when our stdin pipe to it
// closes, so even a SIGKILL of this script leaves nothing behind.
async function start_broker() {
    const child = track(spawn(args.runner, [], { stdio: ["pipe", "pipe", "inherit"] }));
    child.is_runner = true;
    let out = "";
    const waiters = [];
    child.stdout.on("data", (d) => {
        out += d;
        for (;;) {
            const end = out.indexOf("\nend\n");
            if (end < 0 || waiters.length === 0)
                break;
            const answer = out.slice(0, end);
            out = out.slice(end + 5);
            waiters.shift()(answer);
        }
    });
    const started = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the broker did not start within 340 s")), 340_000);
        const check = setInterval(() => {
            const m = /^listening (\d+) (\d+) (\d+)\n/.exec(out);
            if (m) {
                clearInterval(check);
                clearTimeout(timer);
                out = out.slice(m[0].length);
                resolve({ amqp: Number(m[1]), stomp: Number(m[2]) });
            }
        }, 50);
        child.exited.then(({ code }) => reject(new Error(`rabbitmq-runner exited (${code})`)));
    });
    const ports = await started;
    const command = (line) => new Promise((resolve) => {
        waiters.push(resolve);
        child.stdin.write(line + "\n");
    });
    return {
        child,
        url: transport === "amqp" ? `amqp://guest:guest@127.0.0.1:${ports.amqp}/`
                                  : `stomp://guest:guest@127.0.0.1:${ports.stomp}/`,
        restart: () => command("restart"),
        // {ready, unacked} of `queue` as the broker reports them.
        counts: async (queue) => {
            const answer = await command("ctl list_queues name messages_ready messages_unacknowledged --no-table-headers --quiet");
            for (const line of answer.split("\n")) {
                const [name, ready, unacked] = line.trim().split(/\s+/);
                if (name === queue)
                    return { ready: Number(ready), unacked: Number(unacked) };
            }
            return { ready: 0, unacked: 0, missing: true, answer };
        },
        stop: async () => { child.stdin.end(); await child.exited; },
    };
}

function load(cmd_args) {
    const child = track(spawn(args.load, cmd_args, { stdio: ["ignore", "pipe", "pipe"] }));
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.result = child.exited.then(({ code, signal }) => {
        let json = null;
        for (const line of out.split("\n"))
            if (line.startsWith("{"))
                try { json = JSON.parse(line); } catch { /* not ours */ }
        return { code, signal, out, err, json };
    });
    return child;
}

async function load_ok(cmd_args, label) {
    const r = await load(cmd_args).result;
    if (r.code !== 0)
        throw new Error(`${label} failed (exit ${r.code}, signal ${r.signal}):\n${r.out}${r.err.slice(-4000)}`);
    return r;
}

// ---- ids files --------------------------------------------------------------------------

function read_ids(file) {
    const counts = new Map();
    if (!existsSync(file))
        return counts;
    for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line === "")
            continue;
        const seq = Number(line);
        counts.set(seq, (counts.get(seq) ?? 0) + 1);
    }
    return counts;
}

const lines = (counts) => [...counts.values()].reduce((a, b) => a + b, 0);

function missing_from(counts_list, n = total) {
    const missing = [];
    for (let seq = 0; seq < n; ++seq)
        if (!counts_list.some((c) => c.has(seq)))
            missing.push(seq);
    return missing;
}

function check(failures, condition, message) {
    if (!condition)
        failures.push(message);
}

async function produce(broker, queue) {
    await load_ok(["produce", "--broker-url", broker.url, "--queue", queue, "--messages", String(total),
                   "--concurrency", "16"], "produce");
    const c = await broker.counts(queue);
    if (c.ready !== total)
        throw new Error(`produced ${total} messages but ${queue} holds ${JSON.stringify(c)}`);
}

async function check_empty(failures, broker, queue, summary) {
    const c = await broker.counts(queue);
    summary.queue_at_end = c;
    check(failures, c.ready === 0 && c.unacked === 0, `${queue} is not empty at the end: ${JSON.stringify(c)}`);
}

// ---- crash ------------------------------------------------------------------------------

async function run_crash(broker, failures, summary) {
    const in_flight = 50;
    const queue = `crash-${transport}`;
    await produce(broker, queue);
    // The last run stops after 5 s without a message: the broker gives back what a killed
    // consumer held as soon as its connection dies, so by then the queue is drained.
    const consume = (ids, idle) => [
        "consume", "--broker-url", broker.url, "--queue", queue, "--messages", String(total),
        "--concurrency", String(in_flight), "--handler-delay-ms", "20", "--ids-out", ids,
        "--log-level", "error", ...(idle ? ["--idle-exit-s", "5"] : [])];
    const runs = [];
    summary.kills = [];
    for (let k = 0; k < 3; ++k) {
        const ids = path.join(work, `crash-ids-${k}`);
        const child = load(consume(ids, false));
        const t0 = Date.now();
        while (read_ids(ids).size === 0 && Date.now() - t0 < 60_000)
            await sleep(20);
        const after = 400 + Math.floor(random() * 1200);
        await sleep(after);
        process.kill(child.pid, "SIGKILL");
        const r = await child.result;
        check(failures, r.signal === "SIGKILL", `crash run ${k} ended by itself (exit ${r.code}) before its kill`);
        const handled = read_ids(ids);
        summary.kills.push({ after_ms: after, handled: lines(handled) });
        check(failures, handled.size > 0, `crash run ${k} was killed before it handled anything`);
        runs.push(handled);
    }
    const last_ids = path.join(work, "crash-ids-final");
    const last = await load_ok(consume(last_ids, true), "final consume");
    summary.final_run = last.json;
    runs.push(read_ids(last_ids));
    const missing = missing_from(runs);
    summary.lost = missing.length;
    check(failures, missing.length === 0, `crash: ${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    summary.duplicates = 0;
    runs.forEach((handled, k) => {
        const within = lines(handled) - handled.size;
        summary.duplicates += within;
        check(failures, within === 0, `crash run ${k} handled ${within} seqs twice without a kill`);
        if (k === runs.length - 1)
            return;
        let again = 0;
        for (const seq of handled.keys())
            if (runs.slice(k + 1).some((later) => later.has(seq)))
                ++again;
        summary.kills[k].handled_again_later = again;
        summary.duplicates += again;
        check(failures, again <= in_flight, `crash: ${again} seqs of killed run ${k} were handled again (> ${in_flight})`);
    });
    await check_empty(failures, broker, queue, summary);
}

// ---- restart ----------------------------------------------------------------------------

async function run_restart(broker, failures, summary) {
    const in_flight = 50;
    const queue = `restart-${transport}`;
    await produce(broker, queue);
    const ids = path.join(work, "restart-ids");
    const child = load([
        "consume", "--broker-url", broker.url, "--queue", queue, "--messages", String(total),
        "--concurrency", String(in_flight), "--handler-delay-ms", "5", "--ids-out", ids, "--log-level", "warning"]);
    const t0 = Date.now();
    while (lines(read_ids(ids)) < total / 4 && Date.now() - t0 < 120_000)
        await sleep(20);
    summary.handled_before_restart = lines(read_ids(ids));
    const restart_began = Date.now();
    await broker.restart();
    summary.restart_seconds = (Date.now() - restart_began) / 1000;
    const r = await child.result;
    summary.consumer = r.json;
    check(failures, r.code === 0, `restart: the consumer exited ${r.code} (signal ${r.signal}): ${r.err.slice(-2000)}`);
    check(failures, r.json?.stopped_by === "count", `restart: the consumer stopped by ${r.json?.stopped_by}`);
    check(failures, /connection lost|cannot connect/.test(r.err), "restart: the consumer never saw the broker go away");
    const handled = read_ids(ids);
    const missing = missing_from([handled]);
    summary.lost = missing.length;
    summary.duplicates = lines(handled) - handled.size;
    check(failures, missing.length === 0, `restart: ${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    // Handled but not acknowledged when the broker went away: at most what was in flight.
    check(failures, summary.duplicates <= in_flight, `restart: ${summary.duplicates} duplicates (> ${in_flight})`);
    await check_empty(failures, broker, queue, summary);
}

// ---- sigterm ----------------------------------------------------------------------------

async function run_sigterm(broker, failures, summary) {
    const in_flight = 50;
    const queue = `sigterm-${transport}`;
    await produce(broker, queue);
    const started1 = path.join(work, "sigterm-started-1");
    const done1 = path.join(work, "sigterm-done-1");
    const first = load([
        "consume", "--broker-url", broker.url, "--queue", queue, "--messages", String(total),
        "--concurrency", String(in_flight), "--handler-delay-ms", "300", "--ids-out", started1,
        "--done-out", done1, "--log-level", "warning"]);
    const t0 = Date.now();
    while (lines(read_ids(started1)) < 500 && Date.now() - t0 < 60_000)
        await sleep(10);
    await sleep(100 + Math.floor(random() * 150));
    const at_term = { started: lines(read_ids(started1)), done: lines(read_ids(done1)) };
    const term_at = Date.now();
    process.kill(first.pid, "SIGTERM");
    const r1 = await first.result;
    summary.stop_ms = Date.now() - term_at;
    summary.at_sigterm = at_term;
    summary.first_run = r1.json;
    check(failures, r1.code === 0, `sigterm: exit code ${r1.code} (signal ${r1.signal}): ${r1.err.slice(-2000)}`);
    check(failures, r1.json?.stopped_by === "signal", `sigterm: first run stopped by ${r1.json?.stopped_by}`);
    check(failures, at_term.started - at_term.done > 0, "sigterm: no handler was running at the SIGTERM");
    // A handler's 300 ms plus the connection's close; generous for a loaded machine.
    check(failures, summary.stop_ms < 10_000, `sigterm: the graceful stop took ${summary.stop_ms} ms`);
    const s1 = read_ids(started1);
    const d1 = read_ids(done1);
    const unfinished = [...s1.keys()].filter((seq) => !d1.has(seq));
    check(failures, unfinished.length === 0, `sigterm: ${unfinished.length} handlers started but never finished`);
    const counts = await broker.counts(queue);
    summary.queue_after_stop = counts;
    check(failures, counts.unacked === 0, `sigterm: ${counts.unacked} messages still unacknowledged after the stop`);
    check(failures, counts.ready === total - d1.size,
          `sigterm: the queue holds ${counts.ready}, expected ${total} - ${d1.size} finished = ${total - d1.size}`);

    const started2 = path.join(work, "sigterm-started-2");
    const r2 = await load_ok([
        "consume", "--broker-url", broker.url, "--queue", queue, "--messages", String(total - d1.size),
        "--concurrency", String(in_flight), "--ids-out", started2, "--log-level", "warning"], "sigterm restart");
    summary.restart = r2.json;
    const s2 = read_ids(started2);
    const acked_again = [...s2.keys()].filter((seq) => d1.has(seq));
    check(failures, acked_again.length === 0, `sigterm: ${acked_again.length} acknowledged messages were handled again`);
    const missing = missing_from([s1, s2]);
    summary.lost = missing.length;
    summary.duplicates = lines(s1) + lines(s2) - new Set([...s1.keys(), ...s2.keys()]).size;
    check(failures, missing.length === 0, `sigterm: ${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    check(failures, summary.duplicates === 0, `sigterm: ${summary.duplicates} duplicates after a graceful stop`);
    await check_empty(failures, broker, queue, summary);
}

// ---- main -------------------------------------------------------------------------------

const failures = [];
const summary = { test: `broker-${transport}`, messages: total, seed };
const began = Date.now();
let broker = null;
try {
    broker = await start_broker();
    log(`broker up at ${broker.url} after ${(Date.now() - began) / 1000} s`);
    for (const [name, run] of [["crash", run_crash], ["restart", run_restart], ["sigterm", run_sigterm]]) {
        const part = {};
        const t = Date.now();
        const before = failures.length;
        await run(broker, failures, part);
        part.seconds = (Date.now() - t) / 1000;
        summary[name] = part;
        log(`${name}: ${failures.length === before ? "ok" : "FAILED"} in ${part.seconds} s`);
    }
} catch (err) {
    failures.push(String(err.stack ?? err));
}
if (broker)
    await broker.stop();
summary.seconds = (Date.now() - began) / 1000;
summary.failures = failures;
process.stdout.write(JSON.stringify(summary) + "\n");
if (failures.length > 0) {
    log(`FAIL (${failures.length}):\n  ${failures.join("\n  ")}\n(work dir ${work}${args.keep ? "" : ", removed; --keep keeps it"})`);
    process.exitCode = 1;
} else {
    log(`PASS in ${summary.seconds} s`);
}
