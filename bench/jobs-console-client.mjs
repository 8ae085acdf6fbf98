// The WebSocket client of bench/jobs-console.bench.ts, in its own process so that it does not
// share the agent's event loop. Subscribes to one job's console and counts the lines that arrive.
//   node jobs-console-client.mjs <port> <protocol> <tokenProtocol> <jobId> <expectedLines>
// Prints "ready" once subscribed, then one JSON line: {lines, messages, firstAt, lastAt, closed,
// tail (the last characters received)}.
import WebSocket from 'ws';

const [port, protocol, tokenProtocol, jobId, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events`, [protocol, tokenProtocol]);
let lines = 0;
let messages = 0;
let firstAt = null;
let lastAt = null;
let closed = null;
let tail = '';
let reported = false;
const report = () => {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify({ lines, messages, firstAt, lastAt, closed, tail })}\n`);
  ws.terminate();
  process.exit(0);
};
ws.on('message', (raw) => {
  const msg = JSON.parse(String(raw));
  if (msg.type === 'hello') {
    ws.send(JSON.stringify({ type: 'console-subscribe', jobId }));
    process.stdout.write('ready\n');
  } else if (msg.type === 'console' && msg.jobId === jobId && !msg.replay) {
    const now = performance.now();
    firstAt ??= now;
    messages++;
    for (let i = msg.data.indexOf('\n'); i !== -1; i = msg.data.indexOf('\n', i + 1)) lines++;
    lastAt = now;
    tail = (tail + msg.data).slice(-300);
    if (lines >= expected) report();
  } else if (msg.type === 'job' && msg.job.id === jobId && ['succeeded', 'failed', 'canceled'].includes(msg.job.state)) {
    // The agent flushes pending console before a job change: nothing more is coming.
    setTimeout(report, 200);
  }
});
ws.on('close', (code) => {
  closed = code;
  report();
});
ws.on('error', (err) => {
  process.stderr.write(`jobs-console-client: ${String(err)}\n`);
  report();
});
