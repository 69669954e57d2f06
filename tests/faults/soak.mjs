// The reliability soaks of issue 5, each run as a meson test (suite 'soak'):
//
//   faults   20,000 messages produced straight into fauxqs, consumed by three
//            `courier-load consume` processes through fault-proxy.mjs with every fault at
//            1 % (delays 0.3 %) at once. Checks: 0 lost, duplicates counted and reported,
//            every kind of fault injected (the after-processing ones on DeleteMessageBatch
//            and ReceiveMessage too), the queue empty at the end as fauxqs itself reports it.
//   crash    20,000 messages; `courier-load consume` SIGKILLed at three random moments and
//            restarted each time. Checks: 0 lost; the seqs handled again after a kill come
//            only from the killed runs, at most the in-flight limit per kill.
//   sigterm  SIGTERM while 50 slow handlers are running. Checks: exit code 0, every started
//            handler finished, every finished one acked (fauxqs holds exactly N - finished
//            messages and none in flight right after the exit, and a restarted consumer never
//            sees them), the rest released at once (the restart drains the queue far sooner
//            than the 30 s visibility timeout would allow).
//
// Every server this starts listens on a free loopback port (port 0) and is stopped by pid,
// on success, failure or signal; fauxqs and the proxy also exit when our stdin pipe to them
// closes, so even a SIGKILL of this script leaves nothing behind.
//
// Usage: node soak.mjs faults|crash|sigterm --load build/tools/courier-load
//          --fauxqs tests/integration/server/fauxqs-loopback.mjs
//          --proxy tests/faults/fault-proxy.mjs [--messages N] [--seed S] [--keep]
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
        fauxqs: { type: "string" },
        proxy: { type: "string" },
        messages: { type: "string", default: "20000" },
        seed: { type: "string" },
        keep: { type: "boolean", default: false },
    },
});
const mode = positionals[0];
if (!["faults", "crash", "sigterm"].includes(mode) || !args.load || !args.fauxqs)
    usage_failure("usage: soak.mjs faults|crash|sigterm --load PATH --fauxqs PATH [--proxy PATH]");
const total = Number(args.messages);
const seed = seed_from(args.seed);
const work = mkdtempSync(path.join(tmpdir(), `courier-soak-${mode}-`));
const env = { ...process.env, AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_REGION: "us-east-1" };
for (const k of ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE", "AWS_SESSION_TOKEN"])
    delete env[k];

function usage_failure(message) {
    process.stderr.write(message + "\n");
    process.exit(2);
}

function log(message) {
    process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

// The kill moments replay with --seed.
const random = seeded_random(seed);

// ---- processes --------------------------------------------------------------------------

const children = new Set();
function cleanup() {
    for (const child of children)
        if (child.exitCode === null && child.signalCode === null)
            try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
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

// A Node server of ours (fauxqs, the proxy): resolves once it printed `listening PORT PID`.
function start_server(script, extra, label) {
    const child = track(spawn(process.execPath, [script, "--port", "0", ...extra],
                              { stdio: ["pipe", "pipe", "pipe"], env }));
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    return new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`${label} did not start: ${err}`)), 20_000);
        child.stdout.on("data", function on_data(d) {
            out += d;
            const m = /listening (\d+) (\d+)/.exec(out);
            if (m) {
                clearTimeout(timer);
                child.stdout.off("data", on_data);
                child.output = "";
                child.stdout.on("data", (more) => { child.output += more; });
                resolve({ child, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}` });
            }
        });
        child.exited.then(({ code }) => reject(new Error(`${label} exited (${code}): ${err}`)));
    });
}

async function stop(child) {
    if (child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, "SIGTERM");
    return child.exited;
}

// Starts `courier-load ...args`; `.result` resolves with the exit, stdout, stderr and the
// JSON line it printed, if any.
function load(cmd_args) {
    const child = track(spawn(args.load, cmd_args, { stdio: ["ignore", "pipe", "pipe"], env }));
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the queue, as fauxqs itself reports it ---------------------------------------------

async function queue_counts(endpoint, queue_url) {
    const res = await fetch(endpoint + "/", {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueAttributes" },
        body: JSON.stringify({ QueueUrl: queue_url, AttributeNames: ["All"] }),
    });
    const a = (await res.json()).Attributes;
    if (!a)
        throw new Error(`GetQueueAttributes answered ${res.status}`);
    return {
        visible: Number(a.ApproximateNumberOfMessages),
        not_visible: Number(a.ApproximateNumberOfMessagesNotVisible),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
}

async function make_queue(fauxqs, name, visibility) {
    const r = await load_ok(["create-queue", "--name", name, "--visibility-timeout", String(visibility),
                             "--endpoint", fauxqs.url], "create-queue");
    const url = r.out.trim().split("\n")[0];
    await load_ok(["produce", "--queue-url", url, "--messages", String(total), "--concurrency", "8",
                   "--endpoint", fauxqs.url], "produce");
    const c = await queue_counts(fauxqs.url, url);
    if (c.visible !== total)
        throw new Error(`produced ${total} messages but the queue holds ${c.visible}`);
    return url;
}

// ---- ids files --------------------------------------------------------------------------

// Seq -> number of lines naming it.
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

function missing_from(counts_list) {
    const missing = [];
    for (let seq = 0; seq < total; ++seq)
        if (!counts_list.some((c) => c.has(seq)))
            missing.push(seq);
    return missing;
}

function check(failures, condition, message) {
    if (!condition)
        failures.push(message);
}

// ---- faults -----------------------------------------------------------------------------

const fault_probabilities = {
    "drop-request": 0.01, "drop-response": 0.01, "status-500": 0.01, "status-503": 0.01,
    throttling: 0.01, "request-throttled": 0.01, "service-unavailable": 0.01, delay: 0.003,
    truncate: 0.01, garbage: 0.01,
};

async function run_faults(failures, summary) {
    if (!args.proxy)
        usage_failure("faults needs --proxy PATH");
    const visibility = 3; // short, so a lost receive's messages come back fast
    const fauxqs = await start_server(args.fauxqs, [], "fauxqs");
    const queue_url = await make_queue(fauxqs, "faults", visibility);
    const stats_file = path.join(work, "proxy-stats.json");
    const proxy_args = ["--target", fauxqs.url, "--seed", String(seed), "--stats", stats_file,
                        "--delay-ms", "7000", "--after", "0.5"];
    for (const [fault, p] of Object.entries(fault_probabilities))
        proxy_args.push(`--${fault}`, String(p));
    const proxy = await start_server(args.proxy, proxy_args, "fault-proxy");
    log(`fauxqs ${fauxqs.url}, proxy ${proxy.url}, seed ${seed}, ${total} messages`);

    // Three consumers share the queue, as a service's replicas would; each stops only when
    // the queue (asked through the proxy, so that can fail too) is empty. Request timeout
    // 1.5 s: a long poll of 0 s then times out after 6.5 s, and the 7 s delays exceed it.
    const ids = path.join(work, "ids");
    const started = Date.now();
    const consumers = [0, 1, 2].map(() => load([
        "consume", "--queue-url", queue_url, "--endpoint", proxy.url, "--messages", String(total),
        "--concurrency", "50", "--wait-time", "0", "--visibility-timeout", String(visibility),
        "--request-timeout-ms", "1500", "--until-empty", "--ids-out", ids, "--log-level", "error"]));
    const results = await Promise.all(consumers.map((c) => c.result));
    summary.consume_seconds = (Date.now() - started) / 1000;
    await stop(proxy.child);
    const stats = JSON.parse(readFileSync(stats_file, "utf8"));
    summary.proxy = stats;
    summary.consumers = results.map((r) => r.json);
    results.forEach((r, i) => {
        check(failures, r.code === 0, `consumer ${i} exited ${r.code} (signal ${r.signal}): ${r.err.slice(-2000)}`);
        check(failures, r.json?.stopped_by === "empty", `consumer ${i} stopped by ${r.json?.stopped_by}, not an empty queue`);
    });
    summary.ack_errors_logged = results.reduce((n, r) => n + (r.err.match(/ack failed/g) ?? []).length, 0);

    // Every fault happened, and the hard cases did: work done by fauxqs, failure seen by courier.
    for (const fault of Object.keys(fault_probabilities))
        check(failures, stats.faults[fault] > 0, `the proxy never injected ${fault}`);
    for (const action of ["DeleteMessageBatch", "ReceiveMessage"])
        check(failures, (stats.after_processing[action] ?? 0) > 0,
              `no fault was injected on a ${action} after fauxqs processed it`);

    // Wait out the visibility timeout: whatever a consumer still hid would now be visible.
    await sleep((visibility + 1) * 1000);
    const counts = await queue_counts(fauxqs.url, queue_url);
    summary.queue_at_end = counts;
    check(failures, counts.visible === 0 && counts.not_visible === 0 && counts.delayed === 0,
          `the queue is not empty at the end: ${JSON.stringify(counts)}`);

    const handled = read_ids(ids);
    const missing = missing_from([handled]);
    summary.lost = missing.length;
    summary.invocations = lines(handled);
    summary.duplicates = summary.invocations - handled.size;
    check(failures, missing.length === 0, `${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    check(failures, handled.size === total, `${handled.size} distinct seqs handled, expected ${total}`);
    // Duplicates are expected (failed acks, lost receives), a redelivery storm is not: one
    // duplicate per twenty messages is far above what 1 % faults can cause.
    check(failures, summary.duplicates <= total / 20, `${summary.duplicates} duplicates`);
    await stop(fauxqs.child);
}

// ---- crash ------------------------------------------------------------------------------

async function run_crash(failures, summary) {
    const visibility = 3;
    const in_flight = 50;
    const fauxqs = await start_server(args.fauxqs, [], "fauxqs");
    const queue_url = await make_queue(fauxqs, "crash", visibility);
    log(`fauxqs ${fauxqs.url}, seed ${seed}, ${total} messages`);
    const consume = (ids) => [
        "consume", "--queue-url", queue_url, "--endpoint", fauxqs.url, "--messages", String(total),
        "--concurrency", String(in_flight), "--wait-time", "1", "--visibility-timeout", String(visibility),
        "--handler-delay-ms", "20", "--until-empty", "--ids-out", ids, "--log-level", "error"];

    // One ids file per run: a seq handled again must have been in flight in a killed run.
    const runs = [];
    summary.kills = [];
    for (let k = 0; k < 3; ++k) {
        const ids = path.join(work, `ids-${k}`);
        const child = load(consume(ids));
        // Kill after 0.4-1.6 s of handling (the whole queue takes several seconds), timed
        // from the first handled message so a slow start cannot make the kill land early.
        const t0 = Date.now();
        while (read_ids(ids).size === 0 && Date.now() - t0 < 15_000)
            await sleep(20);
        const after = 400 + Math.floor(random() * 1200);
        await sleep(after);
        const before_kill = lines(read_ids(ids));
        process.kill(child.pid, "SIGKILL");
        const r = await child.result;
        check(failures, r.signal === "SIGKILL", `run ${k} ended by itself (exit ${r.code}) before its kill`);
        const handled = read_ids(ids);
        summary.kills.push({ after_ms: after, handled_before_kill: before_kill, handled: lines(handled) });
        check(failures, before_kill > 0, `run ${k} was killed before it handled anything`);
        runs.push(handled);
    }
    const last_ids = path.join(work, "ids-final");
    const started = Date.now();
    const last = await load_ok(consume(last_ids), "final consume");
    summary.final_run = { seconds: (Date.now() - started) / 1000, json: last.json };
    check(failures, last.json?.stopped_by === "empty", `final run stopped by ${last.json?.stopped_by}`);
    runs.push(read_ids(last_ids));

    const missing = missing_from(runs);
    summary.lost = missing.length;
    check(failures, missing.length === 0, `${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    // Within a run nothing repeats (no kill, no fault, handlers far shorter than the
    // visibility timeout); across runs a seq repeats only if a killed run had it in flight.
    summary.duplicates = 0;
    runs.forEach((handled, k) => {
        const within = lines(handled) - handled.size;
        summary.duplicates += within;
        check(failures, within === 0, `run ${k} handled ${within} seqs twice without a kill`);
        if (k === runs.length - 1)
            return;
        let again = 0;
        for (const seq of handled.keys())
            if (runs.slice(k + 1).some((later) => later.has(seq)))
                ++again;
        summary.kills[k].handled_again_later = again;
        summary.duplicates += again;
        check(failures, again <= in_flight,
              `${again} seqs of killed run ${k} were handled again: more than the ${in_flight} in flight`);
    });
    summary.duplicate_bound = 3 * in_flight;
    check(failures, summary.duplicates <= summary.duplicate_bound, `${summary.duplicates} duplicates`);
    await sleep((visibility + 1) * 1000);
    summary.queue_at_end = await queue_counts(fauxqs.url, queue_url);
    check(failures, summary.queue_at_end.visible === 0 && summary.queue_at_end.not_visible === 0,
          `the queue is not empty at the end: ${JSON.stringify(summary.queue_at_end)}`);
    await stop(fauxqs.child);
}

// ---- sigterm ----------------------------------------------------------------------------

async function run_sigterm(failures, summary) {
    // Long visibility: a message that was not released at the stop could only come back
    // after 60 s, which the restart's timing check would notice.
    const visibility = 60;
    const in_flight = 50;
    const handler_ms = 300;
    const fauxqs = await start_server(args.fauxqs, [], "fauxqs");
    const queue_url = await make_queue(fauxqs, "sigterm", visibility);
    log(`fauxqs ${fauxqs.url}, ${total} messages`);
    const started1 = path.join(work, "started-1");
    const done1 = path.join(work, "done-1");
    const first = load([
        "consume", "--queue-url", queue_url, "--endpoint", fauxqs.url, "--messages", String(total),
        "--concurrency", String(in_flight), "--wait-time", "1", "--visibility-timeout", String(visibility),
        "--handler-delay-ms", String(handler_ms), "--ids-out", started1, "--done-out", done1,
        "--log-level", "warning"]);
    // Stop in the middle of a wave of handlers (each holds its message 300 ms).
    const t0 = Date.now();
    while (lines(read_ids(started1)) < 500 && Date.now() - t0 < 30_000)
        await sleep(10);
    await sleep(100 + Math.floor(random() * 150));
    const at_term = { started: lines(read_ids(started1)), done: lines(read_ids(done1)) };
    const term_at = Date.now();
    process.kill(first.pid, "SIGTERM");
    const r1 = await first.result;
    summary.stop_ms = Date.now() - term_at;
    summary.at_sigterm = at_term;
    // What fauxqs holds the moment the process is gone: acks flushed, the rest released.
    const counts = await queue_counts(fauxqs.url, queue_url);
    summary.queue_after_stop = counts;
    summary.first_run = r1.json;
    check(failures, r1.code === 0, `SIGTERM: exit code ${r1.code} (signal ${r1.signal}), expected 0: ${r1.err.slice(-2000)}`);
    check(failures, r1.json?.stopped_by === "signal", `first run stopped by ${r1.json?.stopped_by}`);
    check(failures, at_term.started - at_term.done > 0, "no handler was running at the SIGTERM: the test proved nothing");
    // Bounded by a handler's time plus the long poll in flight (1 s), with margin.
    check(failures, summary.stop_ms < 5000, `the graceful stop took ${summary.stop_ms} ms`);

    const s1 = read_ids(started1);
    const d1 = read_ids(done1);
    const unfinished = [...s1.keys()].filter((seq) => !d1.has(seq));
    summary.in_flight_finished = at_term.started - at_term.done;
    check(failures, unfinished.length === 0, `${unfinished.length} handlers started but never finished, e.g. ${unfinished.slice(0, 10)}`);
    check(failures, counts.not_visible === 0, `${counts.not_visible} messages still hidden after the stop (not released or not acked)`);
    check(failures, counts.visible === total - d1.size,
          `fauxqs holds ${counts.visible} messages, expected ${total} - ${d1.size} finished = ${total - d1.size}`);

    const started2 = path.join(work, "started-2");
    const t2 = Date.now();
    const r2 = await load_ok([
        "consume", "--queue-url", queue_url, "--endpoint", fauxqs.url, "--messages", String(total),
        "--concurrency", String(in_flight), "--wait-time", "1", "--visibility-timeout", String(visibility),
        "--until-empty", "--ids-out", started2, "--log-level", "warning"], "restart");
    summary.restart_seconds = (Date.now() - t2) / 1000;
    summary.restart = r2.json;
    // Draining 20,000 messages takes ~12 s on 2 busy cores; 50 s leaves room for a slow CI
    // machine and still fails if the restart had to wait out a 60 s visibility timeout.
    check(failures, summary.restart_seconds < visibility - 10,
          `the restart took ${summary.restart_seconds} s: released messages should be available at once`);
    const s2 = read_ids(started2);
    const acked_again = [...s2.keys()].filter((seq) => d1.has(seq));
    check(failures, acked_again.length === 0, `${acked_again.length} acked messages were handled again, e.g. ${acked_again.slice(0, 10)}`);
    const missing = missing_from([s1, s2]);
    summary.lost = missing.length;
    summary.duplicates = lines(s1) + lines(s2) - new Set([...s1.keys(), ...s2.keys()]).size;
    check(failures, missing.length === 0, `${missing.length} messages never handled, e.g. ${missing.slice(0, 10)}`);
    check(failures, summary.duplicates === 0, `${summary.duplicates} duplicates after a graceful stop`);

    // Received but never started: SIGTERM a consumer whose long poll waits on the (now
    // empty) queue, then send 10 messages. The poll in flight brings them after the stop
    // began; they must be released, not handled and not left hidden for 60 s.
    const started3 = path.join(work, "started-3");
    const idle = load([
        "consume", "--queue-url", queue_url, "--endpoint", fauxqs.url, "--messages", "10",
        "--concurrency", String(in_flight), "--wait-time", "20", "--visibility-timeout", String(visibility),
        "--ids-out", started3, "--log-level", "warning"]);
    await sleep(1500); // its first ReceiveMessage is waiting in fauxqs by now
    process.kill(idle.pid, "SIGTERM");
    await sleep(300);
    await load_ok(["produce", "--queue-url", queue_url, "--messages", "10", "--endpoint", fauxqs.url], "produce 10");
    const r3 = await idle.result;
    const late = await queue_counts(fauxqs.url, queue_url);
    summary.poll_in_flight_stop = { exit: r3.code, json: r3.json, queue_after_stop: late };
    check(failures, r3.code === 0, `SIGTERM during a long poll: exit code ${r3.code} (signal ${r3.signal}): ${r3.err.slice(-2000)}`);
    check(failures, lines(read_ids(started3)) === 0, "messages received after the SIGTERM were handled");
    check(failures, late.visible === 10 && late.not_visible === 0,
          `what the last long poll brought was not released: ${JSON.stringify(late)}`);
    await stop(fauxqs.child);
}

// ---- main -------------------------------------------------------------------------------

const failures = [];
const summary = { test: mode, messages: total, seed };
const began = Date.now();
try {
    await { faults: run_faults, crash: run_crash, sigterm: run_sigterm }[mode](failures, summary);
} catch (err) {
    failures.push(String(err.stack ?? err));
}
summary.seconds = (Date.now() - began) / 1000;
summary.failures = failures;
process.stdout.write(JSON.stringify(summary) + "\n");
if (failures.length > 0) {
    log(`FAIL (${failures.length}):\n  ${failures.join("\n  ")}\n(work dir ${work}${args.keep ? "" : ", removed; --keep keeps it"})`);
    process.exitCode = 1;
} else {
    log(`PASS in ${summary.seconds} s`);
}
