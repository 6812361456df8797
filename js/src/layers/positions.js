// ---- Positions: keras-hub's PositionEmbedding, sliced to the length of the sequence it is given ----
export function definePositions(tf, H) {
  // config: sequenceLength (the table's rows), startIndex. Input: (batch, steps, features) with
  // steps <= sequenceLength - startIndex; output: rows [startIndex, startIndex + steps) of the
  // table, broadcast over the batch, as keras_hub.layers.PositionEmbedding.call computes it.
  class WebnetsPositionEmbedding extends tf.layers.Layer {
    static className = 'WebnetsPositionEmbedding';

    constructor(config) {
      super(config);
      this.sequenceLength = config.sequenceLength;
      this.startIndex = config.startIndex || 0;
      this.initializer = config.initializer;
    }

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      this.embeddings = this.addWeight('embeddings', [this.sequenceLength, shape[shape.length - 1]], 'float32',
        H.fromSpec(this.initializer, 'glorotUniform'));
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const steps = x.shape[x.rank - 2];
        if (this.startIndex + steps > this.sequenceLength) {
          throw new Error(`${this.name}: a sequence of ${steps} steps from position ${this.startIndex} is longer `
            + `than the ${this.sequenceLength} positions this model was trained with; shorten the input.`);
        }
        const rows = tf.slice(this.embeddings.read(), [this.startIndex, 0], [steps, -1]);
        return tf.broadcastTo(rows, x.shape);
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), sequenceLength: this.sequenceLength, startIndex: this.startIndex,
        initializer: H.toSpec(this.initializer)};
    }
  }

  // keras-hub's RotaryEmbedding. config: inverseFrequencies (what the layer's own _get_inverse_freq gave
  // in Python, so every rope_type is Keras'), scale (YaRN's factor, else 1), sequenceAxis, featureAxis,
  // startIndex. angles = positions x frequencies, duplicated to the feature width; the output is
  // x cos + [-x2, x1] sin, with x1, x2 the halves of the feature axis (keras-hub's _apply_rotary_pos_emb).
  class WebnetsRotaryEmbedding extends tf.layers.Layer {
    static className = 'WebnetsRotaryEmbedding';

    constructor(config) {
      super(config);
      this.inverseFrequencies = config.inverseFrequencies;
      this.scale = config.scale == null ? 1 : config.scale;
      this.sequenceAxis = config.sequenceAxis == null ? 1 : config.sequenceAxis;
      this.featureAxis = config.featureAxis == null ? -1 : config.featureAxis;
      this.startIndex = config.startIndex || 0;
    }

    call(inputs) {
      return tf.tidy(() => {
        const moved = H.moveAxes(H.one(inputs), [this.featureAxis, this.sequenceAxis], [-1, 1]);
        const steps = moved.shape[1];
        const positions = tf.add(tf.range(0, steps, 1, 'float32'), this.startIndex);
        const frequencies = tf.outerProduct(positions, tf.tensor1d(this.inverseFrequencies, 'float32'));
        let angles = tf.concat([frequencies, frequencies], -1);  // [steps, features]
        angles = tf.reshape(angles, [1, steps, ...new Array(moved.rank - 3).fill(1), angles.shape[1]]);
        const cos = tf.mul(tf.cos(angles), this.scale), sin = tf.mul(tf.sin(angles), this.scale);
        const [first, second] = tf.split(moved, 2, -1);
        const rotated = tf.concat([tf.neg(second), first], -1);
        const out = tf.add(tf.mul(moved, cos), tf.mul(rotated, sin));
        return H.moveAxes(out, [-1, 1], [this.featureAxis, this.sequenceAxis]);
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), inverseFrequencies: this.inverseFrequencies, scale: this.scale,
        sequenceAxis: this.sequenceAxis, featureAxis: this.featureAxis, startIndex: this.startIndex};
    }
  }

  // keras-hub's SinePositionEncoding for the sequence it is given: for position p and feature j,
  // angle = p * (1 / maxWavelength) ^ (2 floor(j / 2) / features); sin on even features, cos on odd
  // ones; broadcast over the batch. config: maxWavelength, startIndex.
  class WebnetsSinePositionEncoding extends tf.layers.Layer {
    static className = 'WebnetsSinePositionEncoding';

    constructor(config) {
      super(config);
      this.maxWavelength = config.maxWavelength == null ? 10000 : config.maxWavelength;
      this.startIndex = config.startIndex || 0;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        const [steps, features] = x.shape.slice(-2);
        const positions = tf.add(tf.range(0, steps, 1, 'float32'), this.startIndex);
        const pairs = tf.mul(tf.floorDiv(tf.range(0, features, 1, 'int32'), 2), 2);
        const timescales = tf.pow(1 / this.maxWavelength, tf.div(tf.cast(pairs, 'float32'), features));
        const angles = tf.outerProduct(positions, timescales);
        const odd = tf.cast(tf.mod(tf.range(0, features, 1, 'int32'), 2), 'bool');
        const encoding = tf.where(tf.broadcastTo(odd, angles.shape), tf.cos(angles), tf.sin(angles));
        return tf.broadcastTo(encoding, x.shape);
      });
    }

    computeOutputShape(inputShape) {
      return H.oneShape(inputShape);
    }

    getConfig() {
      return {...super.getConfig(), maxWavelength: this.maxWavelength, startIndex: this.startIndex};
    }
  }

  // A learned token put in front of every sequence of a batch (ViT's class token): the weight
  // `class_token` [1, 1, features], repeated over the batch and concatenated before step 0.
  class WebnetsClassToken extends tf.layers.Layer {
    static className = 'WebnetsClassToken';

    build(inputShape) {
      const shape = H.oneShape(inputShape);
      this.classToken = this.addWeight('class_token', [1, 1, shape[shape.length - 1]], 'float32',
        tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = H.one(inputs);
        return tf.concat([tf.tile(this.classToken.read(), [x.shape[0], 1, 1]), x], 1);
      });
    }

    computeOutputShape(inputShape) {
      const shape = H.oneShape(inputShape);
      return [shape[0], shape[1] == null ? null : shape[1] + 1, shape[2]];
    }
  }

  return [WebnetsPositionEmbedding, WebnetsRotaryEmbedding, WebnetsSinePositionEncoding, WebnetsClassToken];
}
