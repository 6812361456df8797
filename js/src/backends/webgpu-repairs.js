// Repairs of tfjs-backend-webgpu 4.22 kernels that compute wrong results silently (a shader that fails
// to compile zeroes its whole command batch) or throw above rank 4. webnets.load applies them when it
// picks WebGPU (backends/select.js), and so does the demo (web_demo/js/backend.js); tests/test_webgpu.py
// shows each one's effect on the cases that hit it.

// tfjs-backend-webgpu 4.22 transposes with a shader that reads its input buffer raw
// (`setOutputAtIndex(flatIndex, A[...])`, transpose_webgpu.ts) and so only compiles for a float32
// buffer. An int32 or bool buffer (ids, masks, and a cast of either to float32, which there only
// relabels the buffer) fails WGSL validation, and the invalid pipeline takes the whole command
// batch down with it: every tensor of that batch reads back as zeros, silently. Reductions over a
// non-innermost axis, ArgMax/ArgMin, Cumsum and Einsum transpose internally, so a masked average
// over time (mask -> float -> sum over axis 1) hits it. The repair: the program gets its read
// converted (f32(...) for a float32 output, exact i32 for an int32 or bool one) before it is
// compiled; its shader key changes with it, so the broken variant is never cached. Applied to the
// backend instance, so it holds for every kernel that builds the program. A later tfjs whose shader
// reads through a converting getter does not match the pattern and is left as it is. Returns false
// for anything but a WebGPU backend, or one already repaired. The same hook patches two more programs
// (repairSharedBinary, repairBincount2D below), and the kernels above rank 4 are replaced.
export function repairWebGPU(tf, backend) {
  if (!backend || typeof backend.runWebGPUProgram !== 'function' || backend.webnetsRepaired) return false;
  const raw = /setOutputAtIndex\(flatIndex, (A\[getIndexFromCoords[\s\S]*?uniforms\.aShape\)\])\);/;
  const run = backend.runWebGPUProgram;
  backend.runWebGPUProgram = function (program, inputs, outputDtype, ...rest) {
    const stored = inputs.length === 1 && /^transpose_/.test(program.shaderKey || '')
      ? this.tensorMap.get(inputs[0].dataId).dtype : 'float32';
    if (stored !== 'float32') {
      rewrite(program, (code) => code.replace(raw, outputDtype === 'float32'
        ? 'setOutputAtIndex(flatIndex, f32($1));' : 'setOutputAtIndexI32(flatIndex, i32($1));'),
      `${stored}_${outputDtype}`);
    }
    repairSharedBinary(program);
    repairBincount2D(program);
    return run.call(this, program, inputs, outputDtype, ...rest);
  };
  backend.webnetsRepaired = true;
  repairHighRankKernels(tf);
  return true;
}

// The program's WGSL passed through edit before it compiles, under a shader key of its own (the
// pipeline cache is keyed by it), so a broken variant is never cached under the repaired one's key.
function rewrite(program, edit, tag) {
  const userCode = program.getUserCode;
  program.getUserCode = function () {
    return edit(userCode.call(this));
  };
  program.shaderKey += `_webnets_${tag}`;
}

// tfjs-backend-webgpu 4.22's elementwise binary ops (Add, Sub, Mul, ... : binary_op_webgpu.ts) keep a
// 1-D operand of under 128 elements (a bias, a per-channel scale) in workgroup memory and read it as
// `sharedBuf[coords[rank - 1]]`. Up to rank 4 coords is a vecN and indexes; at rank 5 and 6 it is the
// struct vec5 / vec6 (fields x y z w u v), which cannot be indexed: "cannot index type 'vec5'", the
// shader fails and its batch reads back as zeros. So a bias added to any 5-D tensor (Conv3D and
// Conv3DTranspose outputs, ConvLSTM3D gates) came out as zeros. The repair names the field instead.
const structField = ['x', 'y', 'z', 'w', 'u', 'v'];
function repairSharedBinary(program) {
  const rank = (program.outputShape || []).length;
  if (program.type !== 'shared' || rank < 5 || !/^binary_/.test(program.shaderKey || '')) return;
  rewrite(program, (code) => code.replace(/sharedBuf\[coords\[(\d)\]\]/g,
    (_, i) => `sharedBuf[coords.${structField[i]}]`), `shared_rank${rank}`);
}

// tfjs-backend-webgpu 4.22's DenseBincount of a 2-D x (a histogram per row: bincount_webgpu.ts) runs
// one invocation per element of x, but finds the element's row and column with getCoordsFromIndex,
// which divides by the strides of the output, [rows, size], not of x, [rows, columns]. So only the
// first rows * columns / size rows were counted, the rest left at zero, with no error (for a [48, 16]
// x and size 256, 3 rows of 48). CLAHE's per-tile histograms hit it (relative error 1.0). The repair
// splits the index by x's own row length.
function repairBincount2D(program) {
  if (program.rank !== 2 || !/^bincount_/.test(program.shaderKey || '')) return;
  rewrite(program, (code) => code.replace('let coord = getCoordsFromIndex(index);',
    'let coord = vec2<i32>(index / uniforms.xShape.y, index % uniforms.xShape.y);'), 'rows');
}

// Two more kernels of tfjs-backend-webgpu 4.22 handle rank 4 at most, and a 5-D tensor (Conv3D's
// kernels, a ConvLSTM2D sequence, 3-D transposed convolutions) breaks them: Reverse reshapes to 4-D
// and throws "Size(N) must match the product of shape ..."; PadV2 emits a `vec5` type WGSL lacks,
// the shader fails, and (as above) the batch reads back as zeros. Above rank 4 they are composed
// of kernels that take any rank: Reverse as a gather of the reversed indices along each axis, PadV2
// as a concatenation with filled blocks along each padded axis. Rank 4 and below keep TF.js' own.
const highRankRepaired = new WeakSet();  // per tf instance (a page may hold two copies of TF.js)
function repairHighRankKernels(tf) {
  if (highRankRepaired.has(tf)) return;
  highRankRepaired.add(tf);
  const kernel = (name) => tf.getKernel(name, 'webgpu');
  const replace = (name, fallback) => {
    const own = kernel(name);
    if (!own) return;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({...own, kernelFunc: (args) => (args.inputs.x.shape.length > 4 ? fallback(args) : own.kernelFunc(args))});
  };
  const steps = (backend, x, work) => {  // runs work(x) -> x' per step, freeing the intermediates
    let current = x;
    for (const step of work) {
      const next = step(current);
      if (current !== x) backend.disposeData(current.dataId);
      current = next;
    }
    return current === x ? kernel('Identity').kernelFunc({inputs: {x}, backend}) : current;
  };
  const gather = kernel('GatherV2'), concat = kernel('Concat'), fill = kernel('Fill');
  replace('Reverse', ({inputs, backend, attrs}) => {
    const {x} = inputs;
    const axes = tf.util.parseAxisParam(attrs.dims, x.shape);
    return steps(backend, x, axes.map((axis) => (t) => {
      const n = t.shape[axis];
      const indices = backend.makeTensorInfo([n], 'int32', Int32Array.from({length: n}, (_, i) => n - 1 - i));
      const out = gather.kernelFunc({inputs: {x: t, indices}, backend, attrs: {axis, batchDims: 0}});
      backend.disposeData(indices.dataId);
      return out;
    }));
  });
  replace('PadV2', ({inputs, backend, attrs}) => {
    const {x} = inputs;
    const {paddings, constantValue} = attrs;
    return steps(backend, x, paddings.map(([before, after], axis) => (before || after) && ((t) => {
      const block = (size) => fill.kernelFunc({backend, attrs: {shape: t.shape.map((d, i) => (i === axis ? size : d)),
                                                                 value: constantValue, dtype: t.dtype}});
      const parts = [...(before ? [block(before)] : []), t, ...(after ? [block(after)] : [])];
      const out = concat.kernelFunc({inputs: parts, backend, attrs: {axis}});
      parts.filter((p) => p !== t).forEach((p) => backend.disposeData(p.dataId));
      return out;
    })).filter(Boolean));
  });
}
