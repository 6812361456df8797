// How webnets' layers find webnets' fused wasm kernels without importing them (and their ~20 KB of
// embedded WebAssembly): through TF.js's own kernel registry. registerWebnetsKernels(tf) registers kernels
// named 'WebnetsAttention' and 'WebnetsLayerNorm' for the `wasm` backend of that tf; each registered
// config carries `webnetsCall(inputs, attrs)`, which returns the result tensor, or null when the case is not
// covered (another backend active, the module not instantiated, a gradient tape recording, a shape it
// does not take), and the caller then composes TF.js ops as before. The registry belongs to the tf
// instance, so this works the same whether the layers come from the package (ES modules) or from the
// classic exporter/runtime/webnets-layers.js on a page's global tf, and a tf nobody registered on never
// sees the kernels.

/** The fused kernel `name` for the active backend of `tf`, as a function (inputs, attrs) -> Tensor | null. */
export function webnetsKernel(tf, name) {
  if (typeof tf.getKernel !== 'function' || typeof tf.getBackend !== 'function') return null;
  if (tf.getBackend() !== 'wasm') return null;
  const config = tf.getKernel(name, 'wasm');
  return config && typeof config.webnetsCall === 'function' ? config.webnetsCall : null;
}
