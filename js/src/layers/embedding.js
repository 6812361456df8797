// ---- Embedding: ReversibleEmbedding (the tied output projection of language models) ----
export function defineEmbedding(tf, H) {
  // Keras 3 ReversibleEmbedding. On token ids it is Keras' Embedding: ids cast to int32 (floats
  // truncated), rows of `embeddings` taken. Called with reverse=True on vectors [..., outputDim] it
  // projects them to logits [..., inputDim]: x embeddings^T (tieWeights) or x reverse_embeddings, then
  // tanh(logits / logitSoftCap) * logitSoftCap when a soft cap is set.
  // A language model calls one layer both ways (ids in, logits out): in TF.js too it is one layer with
  // ONE embeddings weight, which receives the gradients of both calls, as in Keras. TF.js hands a layer
  // no per-call arguments, so the direction comes from the input's rank: reverseRanks lists the ranks
  // of the reverse calls (the exporter checks that no lookup has one of them).
  // Masks: Keras sets the mask_zero padding mask on the real tensors only, not in the graph the exporter
  // reads; the exporter refuses models in which a layer would use it, so none is produced here.
  class WebnetsReversibleEmbedding extends tf.layers.Layer {
    static className = 'WebnetsReversibleEmbedding';

    constructor(config) {
      super(config);
      this.inputDim = config.inputDim;
      this.outputDim = config.outputDim;
      this.tieWeights = config.tieWeights !== false;
      this.logitSoftCap = config.logitSoftCap == null ? null : config.logitSoftCap;
      this.reverseRanks = config.reverseRanks || [];
      this.embeddingsInitializer = config.embeddingsInitializer == null ? null : config.embeddingsInitializer;
      this.embeddingsRegularizer = config.embeddingsRegularizer == null ? null : config.embeddingsRegularizer;
      this.embeddingsConstraint = config.embeddingsConstraint == null ? null : config.embeddingsConstraint;
      this.supportsMasking = true;
    }

    build() {
      // Keras initializes reverse_embeddings with embeddings_initializer, without regularizer or constraint.
      const init = () => H.fromSpec(this.embeddingsInitializer, 'randomUniform');
      this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', init(),
        undefined, true, H.fromSpec(this.embeddingsConstraint));
      this.regularizer = H.fromSpec(this.embeddingsRegularizer);
      if (!this.tieWeights) {
        this.reverseEmbeddings = this.addWeight('reverse_embeddings', [this.outputDim, this.inputDim], 'float32',
          init());
      }
      this.built = true;
    }

    isReverse(rank) {
      return this.reverseRanks.includes(rank);
    }

    // embeddings_regularizer. tfjs' model asks a layer for its losses once per call of it in the model
    // (Container.calculateLosses), a language model calls this one twice, and Keras adds a weight's
    // penalty once: each call's share is the penalty divided by the number of calls.
    calculateLosses() {
      if (this.regularizer == null || !this.built) return [];
      const calls = Math.max(1, this.inboundNodes.length);
      return [tf.div(this.regularizer.apply(this.embeddings.read()), calls)];
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        if (!this.isReverse(x.rank)) {
          return tf.gather(this.embeddings.read(), x.dtype === 'int32' ? x : tf.cast(x, 'int32'));
        }
        const flat = tf.reshape(x, [-1, this.outputDim]);
        let logits = this.tieWeights ? tf.matMul(flat, this.embeddings.read(), false, true)
          : tf.matMul(flat, this.reverseEmbeddings.read());
        if (this.logitSoftCap != null) logits = tf.mul(tf.tanh(tf.div(logits, this.logitSoftCap)), this.logitSoftCap);
        return tf.reshape(logits, [...x.shape.slice(0, -1), this.inputDim]);
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      return this.isReverse(shape.length) ? [...shape.slice(0, -1), this.inputDim] : [...shape, this.outputDim];
    }

    computeMask() {
      return null;
    }

    getConfig() {
      return {...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, tieWeights: this.tieWeights,
        logitSoftCap: this.logitSoftCap, reverseRanks: this.reverseRanks,
        embeddingsInitializer: this.embeddingsInitializer, embeddingsRegularizer: this.embeddingsRegularizer,
        embeddingsConstraint: this.embeddingsConstraint};
    }
  }

  return [WebnetsReversibleEmbedding];
}
