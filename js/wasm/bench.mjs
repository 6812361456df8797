// Microbenchmark: TF.js's stock wasm kernels against webnets' (js/wasm/kernels.c), in Node, one thread
// (TF.js's wasm backend is single-threaded in Node). Calls alternate between the two so that load from
// other processes falls on both alike; medians of `reps` calls each.
//   - BatchMatMul: tf.matMul, stock kernel against webnets' GEMM;
//   - attention: a WebnetsMultiHeadAttention layer at inference (projections included), TF.js ops
//     (stock kernels) against the fused WebnetsAttention kernel (webnets' kernels registered);
//   - LayerNorm: a WebnetsLayerNormalization layer at inference, ops against WebnetsLayerNorm;
//   - Concat: tf.concat, the stock JavaScript copy against webnets' copy in WebAssembly.
//
//   node js/wasm/bench.mjs [reps] [--json] [--only=matmul,attention,layernorm,concat]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {registerWebnetsKernels, unregisterWebnetsKernels} from '../src/kernels/index.js';
import {register as registerLayers} from '../src/layers/index.js';

tf.env().set('IS_NODE', true);
const reps = Number(process.argv.find((a) => /^\d+$/.test(a)) || 40);
const json = process.argv.includes('--json');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice(7).split(',') : ['matmul', 'attention', 'layernorm', 'concat'];

// [label, shape of a, shape of b, transposeA, transposeB]. Attention at seq 128, head dim 64; the
// dense layer of a transformer block (256 tokens, width 128, 512 hidden) forward and its gradients.
// The forward rows measure only the routing: webnets' kernel leaves untransposed single products to
// XNNPACK, which beat its GEMM there (1.40 against 1.47 ms at 256 rows; 0.033 against 0.064 ms at 1 row).
const SHAPES = [];
for (const bh of [2, 4, 8]) {
  SHAPES.push([`Q·Kᵀ  bh=${bh} 128x64·(128x64)ᵀ`, [bh, 128, 64], [bh, 128, 64], false, true]);
  SHAPES.push([`P·V   bh=${bh} 128x128·128x64`, [bh, 128, 128], [bh, 128, 64], false, false]);
}
for (const m of [1, 16, 256]) SHAPES.push([`dense fwd x·W ${m}x128·128x512 (both: XNNPACK, routed to stock)`, [m, 128], [128, 512], false, false]);
SHAPES.push(['grad dW = xᵀ·dy (256x128)ᵀ·256x512', [256, 128], [256, 512], true, false]);
SHAPES.push(['grad dx = dy·Wᵀ 256x512·(128x512)ᵀ', [256, 512], [128, 512], false, true]);
SHAPES.push(['attn grad dQ-like bh=4 (128x128)ᵀ·128x64', [4, 128, 128], [4, 128, 64], true, false]);

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// [label, fn]: fn() runs once and returns a tensor (or tensors) to dispose. The wasm backend is
// synchronous: when fn returns, the kernels have run.
function matmulRows() {
  return SHAPES.map(([label, sa, sb, tA, tB]) => {
    const a = tf.randomUniform(sa, -1, 1);
    const b = tf.randomUniform(sb, -1, 1);
    return {kernel: 'BatchMatMul', label, run: () => tf.matMul(a, b, tA, tB), tensors: [a, b]};
  });
}

const layerClass = (name) => tf.serialization.SerializationMap.getMap().classNameMap[name][0];

// Self-attention blocks: transformer_text (bench/cases.py: 64 tokens, width 64, 4 heads of 16), a
// BERT-tiny block (128 tokens, width 128, 2 heads of 64), a causal one, a batch of 8, grouped queries.
function attentionRows() {
  const Mha = layerClass('WebnetsMultiHeadAttention');
  const Gqa = layerClass('WebnetsGroupedQueryAttention');
  const rows = [];
  const add = (label, cls, config, shape, withMask) => {
    const layer = new cls({...config, valueIndex: 0, attentionMaskIndex: withMask ? 1 : -1});
    const x = tf.randomUniform(shape, -1, 1);
    // A padding mask [B, T, S] (last quarter of the keys hidden), as an explicit attention_mask input.
    const [B, T] = shape;
    const mask = withMask ? tf.tidy(() => tf.tile(tf.reshape(tf.concat([tf.ones([Math.ceil(T * 3 / 4)]),
      tf.zeros([T - Math.ceil(T * 3 / 4)])], 0), [1, 1, T]), [B, T, 1])) : null;
    const inputs = withMask ? [x, mask] : x;
    layer.apply(inputs);  // builds the weights
    rows.push({kernel: 'Attention', label, run: () => layer.apply(inputs), opsWith: 'WebnetsAttention', tensors: [x, ...(mask ? [mask] : []), ...layer.weights.map((w) => w.read())]});
  };
  add('MHA transformer_text B=1 T=64 d=64 4x16', Mha, {numHeads: 4, keyDim: 16}, [1, 64, 64], false);
  add('MHA transformer_text B=8 T=64 d=64 4x16', Mha, {numHeads: 4, keyDim: 16}, [8, 64, 64], false);
  add('MHA bert_tiny B=1 T=128 d=128 2x64 + padding mask', Mha, {numHeads: 2, keyDim: 64}, [1, 128, 128], true);
  add('MHA causal B=1 T=128 d=128 4x32', Mha, {numHeads: 4, keyDim: 32, useCausalMask: true}, [1, 128, 128], false);
  add('MHA one token B=1 T=1 d=64 4x16', Mha, {numHeads: 4, keyDim: 16}, [1, 1, 64], false);
  add('GQA B=1 T=96 d=128 8 q / 2 kv heads of 16', Gqa, {numQueryHeads: 8, numKeyValueHeads: 2, headDim: 16}, [1, 96, 128], false);
  return rows;
}

function layerNormRows() {
  const Ln = layerClass('WebnetsLayerNormalization');
  return [[1, 64, 64], [8, 64, 64], [1, 128, 128], [1, 1, 64], [1, 197, 768]].map((shape) => {
    const layer = new Ln({epsilon: 1e-6});
    const x = tf.randomUniform(shape, -1, 1);
    layer.apply(x);
    return {kernel: 'LayerNorm', label: `LayerNormalization [${shape}] last axis`, run: () => layer.apply(x), tensors: [x]};
  });
}

function concatRows() {
  const cases = [
    ['axis 1: 3 x [128, 64] (heads side by side)', [[128, 64], [128, 64], [128, 64]], 1],
    ['axis 1: 2 x [64, 1, 16] into [64, 2, 16]', [[64, 1, 16], [64, 1, 16]], 1],
    ['axis 0: 2 x [1, 64] (predict batches)', [[1, 64], [1, 64]], 0],
    ['axis 1: [1, 63, 64] + [1, 1, 64] (a cache grows)', [[1, 63, 64], [1, 1, 64]], 1],
    ['axis 1: 4 x [1024, 16]', [[1024, 16], [1024, 16], [1024, 16], [1024, 16]], 1],
    ['axis 2: 2 x [8, 64, 32] (feature concat)', [[8, 64, 32], [8, 64, 32]], 2],
  ];
  return cases.map(([label, shapes, axis]) => {
    const xs = shapes.map((s) => tf.randomUniform(s, -1, 1));
    return {kernel: 'Concat', label, run: () => tf.concat(xs, axis), tensors: xs};
  });
}

async function main() {
  if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend failed to initialize');
  registerLayers(tf);
  if (!(await registerWebnetsKernels(tf))) throw new Error('webnets kernels did not start');
  const groups = {matmul: matmulRows, attention: attentionRows, layernorm: layerNormRows, concat: concatRows};
  const rows = [];
  for (const name of only) {
    for (const row of groups[name]()) {
      // 'ops': webnets' kernels registered but the fused one (row.opsWith), so the layer composes TF.js
      // ops, their matmuls on webnets' GEMM: what the fused kernel adds on top of the GEMM.
      const times = {stock: [], webnets: [], ops: []};
      const variants = row.opsWith ? ['stock', 'webnets', 'ops'] : ['stock', 'webnets'];
      for (let i = 0; i < reps + 3; i++) {
        for (const which of variants) {
          if (which === 'stock') unregisterWebnetsKernels(tf);
          else await registerWebnetsKernels(tf);
          if (which === 'ops') tf.unregisterKernel(row.opsWith, 'wasm');
          const t0 = performance.now();
          const y = row.run();
          const ms = performance.now() - t0;
          tf.dispose(y);
          if (i >= 3) times[which].push(ms); // 3 warm-up calls each
        }
      }
      tf.dispose(row.tensors);
      const stock = median(times.stock);
      const webnets = median(times.webnets);
      const ops = times.ops.length ? median(times.ops) : null;
      // Re-register what 'ops' removed before the next row.
      unregisterWebnetsKernels(tf);
      await registerWebnetsKernels(tf);
      // Minimums too: on a loaded machine (other processes on the same cores) they show the kernels'
      // own cost where medians move.
      rows.push({kernel: row.kernel, label: row.label, stockMs: stock, webnetsMs: webnets, ratio: webnets / stock,
        gemmOpsMs: ops, stockMin: Math.min(...times.stock), webnetsMin: Math.min(...times.webnets),
        gemmOpsMin: ops == null ? null : Math.min(...times.ops)});
    }
  }
  if (json) {
    process.stdout.write(JSON.stringify({reps, rows}));
    return;
  }
  console.log(`median ms of ${reps} calls each, 1 thread, Node ${process.version}`);
  console.log('| kernel | case | stock ms | webnets ms | webnets / stock | ops on webnets GEMM ms | min: stock / webnets / ops |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  const f = (x) => (x == null ? '' : x.toFixed(3));
  for (const r of rows) {
    console.log(`| ${r.kernel} | ${r.label} | ${f(r.stockMs)} | ${f(r.webnetsMs)} | ${r.ratio.toFixed(3)} | ${f(r.gemmOpsMs)} | `
      + `${f(r.stockMin)} / ${f(r.webnetsMin)}${r.gemmOpsMin == null ? '' : ` / ${f(r.gemmOpsMin)}`} |`);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
