// ---- Activations tfjs has but cannot load by name ----
// tfjs registers the tanh-approximated gelu as 'gelu_new' and camelCases activation names in configs
// on load ('geluNew'), so a model naming it never loads; keras-hub's gelu_approximate is that formula.
export function defineActivations(tf) {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.gelu_new;
  if (!entry) return [];
  class WebnetsGeluApproximate extends entry[0] {
    static className = 'WebnetsGeluApproximate';
  }
  return [WebnetsGeluApproximate];
}
