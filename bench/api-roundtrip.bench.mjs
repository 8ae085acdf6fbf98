// API round trip: GET /api/v1/status on the real agent, against a plain Node HTTP server that
// answers the same payload, measured by the same client in the same run.
import { createServer } from 'node:http';
import { Agent, request } from 'node:http';
import { emit, percentile, startAgent } from './lib.mjs';

const N = Number(process.env.BENCH_API_REQUESTS ?? 2000);
const agent = await startAgent();
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port, path, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: keepAlive }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const auth = { authorization: `Bearer ${agent.token}` };
const payload = await get(agent.port, '/api/v1/status', auth);
const plain = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
  res.end(payload);
});
await new Promise((r) => plain.listen(0, '127.0.0.1', r));
const plainPort = plain.address().port;

async function measure(port, path, headers) {
  for (let i = 0; i < 200; i++) await get(port, path, headers); // warm-up
  const times = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await get(port, path, headers);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

// Interleave in two halves so drift on a busy machine hits both sides alike.
const a1 = await measure(agent.port, '/api/v1/status', auth);
const b1 = await measure(plainPort, '/', {});
const a2 = await measure(agent.port, '/api/v1/status', auth);
const b2 = await measure(plainPort, '/', {});
const ours = [...a1, ...a2].sort((a, b) => a - b);
const base = [...b1, ...b2].sort((a, b) => a - b);
emit('api_status_roundtrip_p50_ms', percentile(ours, 50), 'ms', percentile(base, 50));
emit('api_status_roundtrip_p99_ms', percentile(ours, 99), 'ms', percentile(base, 99));
keepAlive.destroy();
plain.close();
await agent.stop();
