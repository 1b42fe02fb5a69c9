// bench/status.mjs: median latency of GET /api/v1/status (or of
// BENCH_PATH, e.g. /api/v1/deployments?status=failed) over one keep-alive
// HTTPS connection per server, measured by the client (not the server log).
//
//   node bench/status.mjs URL TOKEN CA_PEM_FILE [REQUESTS=200] [WARMUP=20] [URL2 TOKEN2 CA_PEM_FILE2]
//
// Prints "median_ms N p90_ms N total N" (total: the deployments the reply
// counted, or for a list the rows of its page). With a second server,
// requests alternate between the two (one to each, in turn), so a machine
// whose speed drifts times both alike, and it prints a second line for the
// second server.
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [url, token, caFile, nArg, warmArg, url2, token2, caFile2] = process.argv.slice(2);
if (!url || !token || !caFile || (url2 && (!token2 || !caFile2))) {
  console.error('usage: node bench/status.mjs URL TOKEN CA_PEM_FILE [REQUESTS] [WARMUP] [URL2 TOKEN2 CA_PEM_FILE2]');
  process.exit(2);
}
const n = Math.min(Number(nArg || 200), 10000);
const warmup = Math.min(Number(warmArg || 20), 1000);

function server(base, bearer, ca) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(ca) });
  const target = new URL(process.env.BENCH_PATH || '/api/v1/status', base);
  const get = () => new Promise((resolve, reject) => {
    const req = https.get(target, { agent, headers: { Authorization: `Bearer ${bearer}` }, timeout: 10000 }, (res) => {
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
  return { agent, get, times: [], body: undefined };
}

const servers = [server(url, token, caFile)];
if (url2) servers.push(server(url2, token2, caFile2));
for (let i = 0; i < warmup; i++) for (const s of servers) s.body = await s.get();
for (let i = 0; i < n; i++) {
  for (const s of servers) {
    const t0 = process.hrtime.bigint();
    s.body = await s.get();
    s.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
for (const s of servers) {
  const times = s.times.sort((a, b) => a - b);
  const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  console.log(`median_ms ${median.toFixed(3)} p90_ms ${times[Math.floor(n * 0.9)].toFixed(3)} total ${s.body.total ?? s.body.deployments?.length}`);
  s.agent.destroy();
}
