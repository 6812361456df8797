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
// for anything but a WebGPU backend, or one already repaired.
export function repairWebGPU(tf, backend) {
  if (!backend || typeof backend.runWebGPUProgram !== 'function' || backend.webnetsRepaired) return false;
  const raw = /setOutputAtIndex\(flatIndex, (A\[getIndexFromCoords[\s\S]*?uniforms\.aShape\)\])\);/;
  const run = backend.runWebGPUProgram;
  backend.runWebGPUProgram = function (program, inputs, outputDtype, ...rest) {
    const stored = inputs.length === 1 && /^transpose_/.test(program.shaderKey || '')
      ? this.tensorMap.get(inputs[0].dataId).dtype : 'float32';
    if (stored !== 'float32') {
      const userCode = program.getUserCode;
      program.getUserCode = function () {
        const code = userCode.call(this);
        return code.replace(raw, outputDtype === 'float32'
          ? 'setOutputAtIndex(flatIndex, f32($1));' : 'setOutputAtIndexI32(flatIndex, i32($1));');
      };
      program.shaderKey += `_webnets_${stored}_${outputDtype}`;
    }
    return run.call(this, program, inputs, outputDtype, ...rest);
  };
  backend.webnetsRepaired = true;
  repairHighRankKernels(tf);
  return true;
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
