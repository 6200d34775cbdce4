// Node.js fetch (undici, keep-alive pool), one workload per process.
//   node bench/node_bench.mjs get|cycle        (environment as konnect_bench.lua)
// For https:// the CA comes from NODE_EXTRA_CA_CERTS (bench/run.sh sets it).
// Every response is decoded with res.json().  Prints one JSON line.
import { performance } from 'node:perf_hooks';

const env = (k, d) => (process.env[k] ? process.env[k] : d);
const die = (m) => { process.stderr.write(m + '\n'); process.exit(1); };

const workload = process.argv[2] || 'get';
const base = env('BENCH_BASE'), user = env('BENCH_USER'), token = env('BENCH_TOKEN');
if (!base || !user || !token) die('node_bench: BENCH_BASE, BENCH_USER and BENCH_TOKEN are required');
const ids = env('BENCH_IDS', '').split(',').filter(Boolean);
const n = Math.floor(Number(env('BENCH_N', '1000')));
const warmup = Math.floor(Number(env('BENCH_WARMUP', '50')));
const label = env('BENCH_LABEL', workload);
const tokensUrl = `${base}/v3/users/${user}/access-tokens`;
const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
const bodyHeaders = { ...headers, 'Content-Type': 'application/json' };
const createBody = JSON.stringify({ name: 'bench-cycle', ttl_seconds: 86400 });

async function req(method, url, body) {
  const res = await fetch(url, { method, headers: body ? bodyHeaders : headers, body });
  const text = await res.text();
  return [res.status, text ? JSON.parse(text) : null];
}

async function oneGet() {
  const [status, v] = await req('GET', `${tokensUrl}/${ids[0]}`);
  if (status !== 200 || v.id !== ids[0]) die(`node_bench: bad get ${status}`);
}

async function oneCycle() {
  const [s1, v] = await req('POST', tokensUrl, createBody);
  if (s1 !== 201) die(`node_bench: bad create ${s1}`);
  const [s2, r] = await req('PATCH', `${tokensUrl}/${v.id}/revoke`);
  if (s2 !== 200 || r.state !== 'REVOKED') die(`node_bench: bad revoke ${s2}`);
  const [s3] = await req('DELETE', `${tokensUrl}/${v.id}`);
  if (s3 !== 204) die(`node_bench: bad delete ${s3}`);
}

const fn = { get: oneGet, cycle: oneCycle }[workload] || die(`node_bench: unknown workload ${workload}`);
for (let i = 0; i < warmup; i++) await fn();
const times = new Float64Array(n);
const cpu0 = process.cpuUsage();
const start = performance.now();
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  await fn();
  times[i] = performance.now() - t0;
}
const total = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0); // client CPU over the timed loop (µs, user + system)
const cpuS = (cpu.user + cpu.system) / 1e6;
times.sort();
const pick = (q) => (n ? times[Math.floor(q * (n - 1))] : 0);
const median = n ? (n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2) : 0;
process.stdout.write(JSON.stringify({
  contender: `Node ${process.versions.node.split('.')[0]} fetch`, workload: label, n, total_s: total,
  median_us: median * 1e3, p90_us: pick(0.9) * 1e3, p99_us: pick(0.99) * 1e3,
  requests_per_call: workload === 'cycle' ? 3 : 1,
  cpu_s: cpuS, mean_us: n ? total / n * 1e6 : 0, cpu_us: n ? cpuS / n * 1e6 : 0,
  peak_rss_kb: process.resourceUsage().maxRSS,
}) + '\n');
