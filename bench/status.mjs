// bench/status.mjs: median latency of GET /api/v1/status over one
// keep-alive HTTPS connection, measured by the client (not the server log).
//
//   node bench/status.mjs URL TOKEN CA_PEM_FILE [REQUESTS=200] [WARMUP=20]
//
// Prints "median_ms N p90_ms N total N" (total: the deployments the reply counted).
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [url, token, caFile, nArg, warmArg] = process.argv.slice(2);
if (!url || !token || !caFile) {
  console.error('usage: node bench/status.mjs URL TOKEN CA_PEM_FILE [REQUESTS] [WARMUP]');
  process.exit(2);
}
const n = Math.min(Number(nArg || 200), 10000);
const warmup = Math.min(Number(warmArg || 20), 1000);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(caFile) });
const target = new URL('/api/v1/status', url);

function get() {
  return new Promise((resolve, reject) => {
    const req = https.get(target, { agent, headers: { Authorization: `Bearer ${token}` }, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}: ${Buffer.concat(chunks)}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

let body;
for (let i = 0; i < warmup; i++) body = await get();
const times = [];
for (let i = 0; i < n; i++) {
  const t0 = process.hrtime.bigint();
  body = await get();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
console.log(`median_ms ${median.toFixed(3)} p90_ms ${times[Math.floor(n * 0.9)].toFixed(3)} total ${body.total}`);
agent.destroy();
