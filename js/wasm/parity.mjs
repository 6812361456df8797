// Parity of webnets' wasm kernels against TF.js's own, in one Node process (tests/test_wasm_kernels.py
// runs it and asserts on the JSON it prints). For each case: random inputs, the product with webnets'
// kernel registered, then the same inputs on TF.js's cpu backend (the reference for every case) and
// through the stock wasm kernel (webnets' unregistered).
// `stockBroadcastWrong` counts the broadcast-batch cases where the stock wasm kernel and cpu disagree
// (0 on 4.22: both are references everywhere).
//
//   node js/wasm/parity.mjs [seed]   -> {"cases": [...], "grads": [...], "int32": {...}, "variant": ...}
//   node js/wasm/parity.mjs --no-simd -> an engine without WebAssembly SIMD: the stock kernel runs
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {kernelsThreadedWasm, kernelsWasm} from '../src/kernels/wasm-binary.js';
import {registerWebnetsKernels, unregisterWebnetsKernels, webnetsKernel, webnetsKernelStats, webnetsKernelVariant} from '../src/kernels/index.js';
import {fusedParity} from './parity-fused.mjs';

tf.env().set('IS_NODE', true);
const seed = Number(process.argv[2] || 1);

// Deterministic uniform [-1, 1) (mulberry32), so a failing case reproduces.
function random(seedValue) {
  let s = seedValue >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
const rand = random(seed);
const fill = (n) => Float32Array.from({length: n}, rand);
const size = (shape) => shape.reduce((x, y) => x * y, 1);

// The shapes: odd sizes, transposes, batches shared, broadcast from either side, and rank 2..4.
const ODD = [1, 3, 17, 63, 130];
const pick = (list) => list[Math.floor((rand() + 1) / 2 * list.length) % list.length];
const cases = [];
for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
  // Every odd size in every position at least once per transpose pair.
  for (const d of ODD) {
    cases.push({m: d, k: pick(ODD), n: pick(ODD), outerA: [], outerB: [], tA, tB});
    cases.push({m: pick(ODD), k: d, n: pick(ODD), outerA: [2], outerB: [2], tA, tB});
    cases.push({m: pick(ODD), k: pick(ODD), n: d, outerA: [3], outerB: [1], tA, tB});
  }
  // Attention-like: batch*heads, seq, head dim; and broadcast of either side.
  cases.push({m: 128, k: 64, n: 128, outerA: [2, 4], outerB: [2, 4], tA, tB});
  cases.push({m: 33, k: 300, n: 9, outerA: [1], outerB: [5], tA, tB});
  cases.push({m: 16, k: 260, n: 24, outerA: [2, 3], outerB: [], tA, tB});
  cases.push({m: 5, k: 7, n: 600, outerA: [], outerB: [4], tA, tB});
  cases.push({m: 9, k: 31, n: 12, outerA: [2, 3], outerB: [3], tA, tB}); // trailing-dims broadcast
}

function shapeOf(c, side) {
  const [rows, cols] = side === 'a' ? (c.tA ? [c.k, c.m] : [c.m, c.k]) : (c.tB ? [c.n, c.k] : [c.k, c.n]);
  return [...(side === 'a' ? c.outerA : c.outerB), rows, cols];
}

function compare(got, want) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return {maxAbsDiff: diff, maxAbs: scale, rel: diff / (scale || 1), sameLength: got.length === want.length};
}

// Gradients of sum(matMul(a, b) * w) w.r.t. a and b: TF.js builds them from BatchMatMuls with transposes.
const gradCases = [
  {m: 17, k: 63, n: 130, outerA: [2], outerB: [2], tA: false, tB: false},
  {m: 128, k: 64, n: 128, outerA: [4], outerB: [4], tA: false, tB: true},
  // (Not broadcast batches: TF.js 4.22's BatchMatMul gradient does not sum over a broadcast batch and
  // throws "The gradient of input 'b' has shape '3,3,17' ..." on every backend.)
  {m: 63, k: 3, n: 17, outerA: [3], outerB: [3], tA: true, tB: false},
  {m: 130, k: 17, n: 1, outerA: [], outerB: [], tA: true, tB: true},
];

function run(list, grads) {
  const out = list.map((c) => {
    const a = tf.tensor(c.dataA, shapeOf(c, 'a'));
    const b = tf.tensor(c.dataB, shapeOf(c, 'b'));
    const y = tf.matMul(a, b, c.tA, c.tB);
    const result = {shape: y.shape, data: y.dataSync()};
    tf.dispose([a, b, y]);
    return result;
  });
  const g = grads.map((c) => {
    const a = tf.tensor(c.dataA, shapeOf(c, 'a'));
    const b = tf.tensor(c.dataB, shapeOf(c, 'b'));
    const w = tf.tensor(c.dataW, c.outShape);
    const [da, db] = tf.grads((x, z) => tf.sum(tf.mul(tf.matMul(x, z, c.tA, c.tB), w)))([a, b]);
    const result = {da: da.dataSync(), db: db.dataSync(), daShape: da.shape, dbShape: db.shape};
    tf.dispose([a, b, w, da, db]);
    return result;
  });
  return {out, g};
}

// TF.js's threaded-SIMD build creates its memory as {maximum: 65536 pages, shared: true} (Node runs the
// unthreaded one, so this is checked on the binaries directly): the threaded binary must run on such a
// memory, the plain one must refuse it (which is why there are two), and both must agree.
async function threadedVariant() {
  const bytes = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));
  const m = 37, n = 70, k = 45;
  const a = fill(m * k);
  const b = fill(k * n);
  const runOn = async (wasm, memory) => {
    const {instance} = await WebAssembly.instantiate(bytes(wasm), {env: {memory}});
    const heap = new Float32Array(memory.buffer);
    const pa = 1 << 16, pb = pa + a.length * 4, pc = pb + b.length * 4, ps = pc + m * n * 4;
    heap.set(a, pa / 4);
    heap.set(b, pb / 4);
    instance.exports.webnets_batch_matmul(pa, pb, pc, 1, 1, 1, m, n, k, 0, 0, ps);
    return Float32Array.from(heap.subarray(pc / 4, pc / 4 + m * n));
  };
  const shared = new WebAssembly.Memory({initial: 256, maximum: 65536, shared: true});
  const threaded = await runOn(kernelsThreadedWasm, shared);
  const plain = await runOn(kernelsWasm, new WebAssembly.Memory({initial: 256}));
  let plainOnShared = null;
  try {
    await runOn(kernelsWasm, new WebAssembly.Memory({initial: 256, maximum: 65536, shared: true}));
  } catch (e) {
    plainOnShared = String(e.message || e);
  }
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let kk = 0; kk < k; kk++) acc += a[i * k + kk] * b[kk * n + j];
    want[i * n + j] = acc;
  }
  return {sharedBuffer: shared.buffer instanceof SharedArrayBuffer, threadedVsFloat64: compare(threaded, want),
    plainVsFloat64: compare(plain, want), plainOnShared};
}

// WASM_HAS_SIMD_SUPPORT false (as on an engine without SIMD): nothing is instantiated, and products
// (transposed, batched: ones webnets' kernel would take) run the stock kernel and stay right.
async function noSimd() {
  tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend failed to initialize');
  const live = await registerWebnetsKernels(tf);
  const stats = webnetsKernelStats.BatchMatMul;
  const y = tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 4]), false, true).dataSync();
  // The fused kernels are registered but refuse (the module is not running): the layers compose ops.
  const attention = webnetsKernel(tf, 'WebnetsAttention')({q: tf.ones([4, 8]), k: tf.ones([4, 8]), v: tf.ones([4, 8])},
    {batch: 1, heads: 2, kvHeads: 2, keyDim: 4, valueDim: 4});
  const c = tf.concat([tf.ones([2, 3]), tf.zeros([2, 1])], 1).dataSync();
  process.stdout.write(JSON.stringify({live, variant: webnetsKernelVariant(tf.backend()), calls: {...stats},
    allFour: y.length === 30 && y.every((v) => v === 4), attention,
    attentionCalls: {...webnetsKernelStats.WebnetsAttention}, concatCalls: {...webnetsKernelStats.Concat},
    concat: Array.from(c)}));
}

async function main() {
  if (process.argv.includes('--no-simd')) return noSimd();
  if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend failed to initialize');
  const live = await registerWebnetsKernels(tf);
  for (const c of [...cases, ...gradCases]) {
    c.dataA = fill(size(shapeOf(c, 'a')));
    c.dataB = fill(size(shapeOf(c, 'b')));
  }
  for (const c of gradCases) {
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(c.outerA, c.outerB);
    c.outShape = [...outer, c.m, c.n];
    c.dataW = fill(size(c.outShape));
  }
  const stats = webnetsKernelStats.BatchMatMul;
  const before = {...stats};
  const t0 = performance.now();
  const mine = run(cases, []);
  const productCalls = {webnets: stats.webnets - before.webnets, stock: stats.stock - before.stock};
  const beforeGrad = {...stats};
  const mineGrad = run([], gradCases).g;
  const gradCalls = {webnets: stats.webnets - beforeGrad.webnets, stock: stats.stock - beforeGrad.stock};
  const webnetsMs = performance.now() - t0;

  // int32 goes to the stock kernel (which refuses it on wasm); the call must be counted as a fallback.
  const beforeInt = {...stats};
  let int32Error = null;
  try {
    tf.matMul(tf.tensor([[1, 2]], [1, 2], 'int32'), tf.tensor([[3], [4]], [2, 1], 'int32')).dataSync();
  } catch (e) {
    int32Error = String(e.message || e);
  }
  const int32 = {stockCalls: stats.stock - beforeInt.stock, webnetsCalls: stats.webnets - beforeInt.webnets, error: int32Error};
  // [2,1] x [1,3] batches do not flatten into one loop: the stock kernel takes them.
  const beforeBroad = {...stats};
  tf.matMul(tf.ones([2, 1, 3, 4]), tf.ones([1, 3, 4, 5])).dataSync();
  const unflattened = {stockCalls: stats.stock - beforeBroad.stock, webnetsCalls: stats.webnets - beforeBroad.webnets};
  const variant = webnetsKernelVariant(tf.backend());
  // Which calls webnets' kernel takes: all but untransposed single products (XNNPACK's).
  const expectedWebnets = (list) => list.filter((c) => c.tA || c.tB || size(c.outerA) * size(c.outerB) > 1).length;
  const expected = {products: expectedWebnets(cases), xnnpack: cases.length - expectedWebnets(cases)};

  await tf.setBackend('cpu');
  const cpu = run(cases, gradCases);
  await tf.setBackend('wasm');

  unregisterWebnetsKernels(tf);
  const t1 = performance.now();
  const stock = run(cases, gradCases);
  const stockMs = performance.now() - t1;
  let stockInt32Error = null;
  try {
    tf.matMul(tf.tensor([[1, 2]], [1, 2], 'int32'), tf.tensor([[3], [4]], [2, 1], 'int32')).dataSync();
  } catch (e) {
    stockInt32Error = String(e.message || e);
  }

  const fusedStart = performance.now();
  const fused = await fusedParity(tf, rand);
  const fusedMs = performance.now() - fusedStart;
  const report = {
    ...fused,
    fusedMs,
    threaded: await threadedVariant(),
    live,
    variant,
    webnetsMs,
    stockMs,
    productCalls,
    expected,
    gradCalls,
    int32: {...int32, stockError: stockInt32Error},
    unflattened,
    stockBroadcastWrong: cases.filter((c, i) => size(c.outerA) !== size(c.outerB) &&
      !(compare(stock.out[i].data, cpu.out[i].data).rel <= 1e-5)).length,
    cases: cases.map((c, i) => ({
      m: c.m, k: c.k, n: c.n, outerA: c.outerA, outerB: c.outerB, tA: c.tA, tB: c.tB,
      broadcast: size(c.outerA) !== size(c.outerB),
      shape: mine.out[i].shape, cpuShape: cpu.out[i].shape, stockShape: stock.out[i].shape,
      ...compare(mine.out[i].data, cpu.out[i].data),
      relStock: compare(mine.out[i].data, stock.out[i].data).rel,
    })),
    grads: gradCases.map((c, i) => ({
      m: c.m, k: c.k, n: c.n, outerA: c.outerA, outerB: c.outerB, tA: c.tA, tB: c.tB,
      daShape: mineGrad[i].daShape, cpuDaShape: cpu.g[i].daShape,
      dbShape: mineGrad[i].dbShape, cpuDbShape: cpu.g[i].dbShape,
      da: compare(mineGrad[i].da, cpu.g[i].da), db: compare(mineGrad[i].db, cpu.g[i].db),
      daStock: compare(mineGrad[i].da, stock.g[i].da).rel, dbStock: compare(mineGrad[i].db, stock.g[i].db).rel,
    })),
  };
  process.stdout.write(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
