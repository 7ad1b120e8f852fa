import { compare, sequential } from '../dist/harness.js';

const t = performance.now();
const r = await compare([{ name: 'a', run: sequential(() => new Promise((res) => setTimeout(res, 1))) }], {
  roundMs: 80,
  rounds: 15,
  warmupMs: 150,
});
console.log(r[0].opsPerSec, r[0].samples.length, performance.now() - t);
