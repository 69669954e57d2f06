// Creates SQS queues on a local fauxqs and prints one line per queue, `NAME URL`; used by
// tools/run-local-sqs.sh, which has no courier build to hand. The requests are AWS JSON 1.0
// CreateQueue calls, unsigned: fauxqs reads only the region from the Authorization header's
// credential scope. A name ending in .fifo makes a FIFO queue. Creating a queue that exists
// returns its URL.
//
// Usage: node create-queues.mjs --endpoint http://127.0.0.1:PORT --region R NAME...
import { parseArgs } from "node:util";

const name = "create-queues";

function fail(message, code = 1) {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(code);
}

let parsed;
try {
    parsed = parseArgs({
        options: { endpoint: { type: "string" }, region: { type: "string", default: "us-east-1" } },
        allowPositionals: true,
        strict: true,
    });
} catch (err) {
    fail(err.message, 2);
}
const { endpoint, region } = parsed.values;
if (!endpoint || !/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/.test(endpoint)) {
    fail(`--endpoint http://127.0.0.1:PORT is required (loopback only), got '${endpoint ?? ""}'`, 2);
}

for (const queue of parsed.positionals) {
    const attributes = queue.endsWith(".fifo") ? { FifoQueue: "true" } : {};
    let answer;
    try {
        const response = await fetch(`${endpoint}/`, {
            method: "POST",
            headers: {
                "content-type": "application/x-amz-json-1.0",
                "x-amz-target": "AmazonSQS.CreateQueue",
                authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${region}/sqs/aws4_request, ` +
                    "SignedHeaders=host, Signature=0",
            },
            body: JSON.stringify({ QueueName: queue, Attributes: attributes }),
        });
        answer = await response.json();
        if (!response.ok) {
            fail(`queue '${queue}': ${answer.__type ?? response.status}: ${answer.message ?? answer.Message ?? ""}`);
        }
    } catch (err) {
        fail(`queue '${queue}': ${err.message} (is fauxqs listening on ${endpoint}?)`);
    }
    process.stdout.write(`${queue} ${answer.QueueUrl}\n`);
}
