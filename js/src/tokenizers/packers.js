import {fail} from './util.js';

// ---- keras-hub's packers (StartEndPacker, MultiSegmentPacker) as TF.js layers ----
//
// They take int32 token ids of shape [batch, n]: a dense row (a tensor the model made) or the rows
// of a WebnetsTokenizer that feeds a packer, padded with -1 past each text's ids (keras-hub hands
// its packers ragged rows). A negative id is no token: keras-hub's packers never see one.

// The token ids of each row of an int tensor, negatives dropped.
function raggedRows(x) {
  const rows = x.rank === 1 ? [x.arraySync()] : x.arraySync();
  return rows.map((row) => row.filter((id) => id >= 0));
}

// keras-hub's `_pad`: `value` on the right (or left) up to `length`; a longer row stays as it is.
function padRow(row, length, value, side) {
  const fill = new Array(Math.max(0, length - row.length)).fill(value);
  return side === 'left' ? fill.concat(row) : row.concat(fill);
}

const asList = (v) => (v === null || v === undefined ? null : (Array.isArray(v) ? v : [v]));
// Python's seq[:n], negative n included.
const head = (row, n) => row.slice(0, n);

// MultiSegmentPacker._trim_inputs_round_robin_python: the lowest priority cutoff whose count of kept
// tokens reaches the budget; token j of segment s has priority j * segments + s.
function roundRobin(lengths, budget) {
  const n = lengths.length;
  if (lengths.reduce((a, b) => a + b, 0) <= budget) return lengths.slice();
  let low = -1, high = n * Math.max(...lengths), cutoff = high;
  const pyDiv = (a, b) => Math.floor(a / b);
  while (low <= high) {
    const mid = pyDiv(low + high, 2);
    let count = 0;
    for (let s = 0; s < n; s++) {
      const maxIndex = pyDiv(mid - s, n);
      if (maxIndex >= 0) count += Math.min(lengths[s], maxIndex + 1);
    }
    if (count >= budget) { cutoff = mid; high = mid - 1; } else low = mid + 1;
  }
  // keras-hub slices seq[:max_index + 1], and Python's slice end may be negative.
  return lengths.map((_, s) => pyDiv(cutoff - s, n) + 1);
}

function waterfall(lengths, budget) {
  let remaining = budget;
  return lengths.map((length) => {
    if (remaining <= 0) return 0;
    const kept = Math.min(length, remaining);
    remaining -= kept;
    return kept;
  });
}

function definePackers(tf) {
  const camel = (s) => String(s).replace(/_([a-z])/g, (_, c) => c.toUpperCase());

  // keras_hub.layers.StartEndPacker: truncate to sequence_length less the start and end values, add
  // them, pad; with return_padding_mask also a bool mask of the kept positions.
  class WebnetsStartEndPacker extends tf.layers.Layer {
    static className = 'WebnetsStartEndPacker';

    constructor(config) {
      super(Object.assign({}, config, {trainable: false}));
      this.sequenceLength = config.sequenceLength;
      this.startValue = asList(config.startValue);
      this.endValue = asList(config.endValue);
      this.padValue = config.padValue === null || config.padValue === undefined ? null : config.padValue;
      this.returnPaddingMask = !!config.returnPaddingMask;
      this.paddingSide = config.paddingSide || 'right';
    }

    call(inputs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const length = this.sequenceLength;
      const start = this.startValue || [], end = this.endValue || [];
      const kept = length - start.length - end.length;
      const rows = raggedRows(x).map((row) => start.concat(head(row, kept), end));
      const ids = rows.map((row) => padRow(row, length, this.padValue === null ? 0 : this.padValue, this.paddingSide));
      const shape = x.rank === 1 ? [length] : [rows.length, length];
      const out = tf.tensor(ids.flat(), shape, 'int32');
      if (!this.returnPaddingMask) return out;
      const mask = rows.map((row) => padRow(row.map(() => 1), length, 0, this.paddingSide));
      return [out, tf.tensor(mask.flat(), shape, 'bool')];
    }

    computeOutputShape(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      const out = [...shape.slice(0, -1), this.sequenceLength];
      return this.returnPaddingMask ? [out, out.slice()] : out;
    }

    getConfig() {
      return Object.assign({}, super.getConfig(), {
        sequenceLength: this.sequenceLength, startValue: this.startValue, endValue: this.endValue,
        padValue: this.padValue, returnPaddingMask: this.returnPaddingMask, paddingSide: this.paddingSide});
    }
  }

  // keras_hub.layers.MultiSegmentPacker: one input per segment; trim them together ("round_robin" or
  // "waterfall") to sequence_length less the start, separator and end values, then
  // start + seg0 + sep + seg1 + ... + end, padded; segment ids 0, 1, ... (the start value in
  // segment 0, each separator and the end in the segment before it; padding 0).
  class WebnetsMultiSegmentPacker extends tf.layers.Layer {
    static className = 'WebnetsMultiSegmentPacker';

    constructor(config) {
      super(Object.assign({}, config, {trainable: false}));
      this.sequenceLength = config.sequenceLength;
      this.startValue = asList(config.startValue) || [];
      this.endValue = asList(config.endValue) || [];
      this.sepValue = asList(config.sepValue) || [];
      this.padValue = config.padValue === null || config.padValue === undefined ? null : config.padValue;
      // tfjs turns snake_case string values of a config into camelCase on load.
      this.truncate = camel(config.truncate || 'round_robin');
      if (this.truncate !== 'roundRobin' && this.truncate !== 'waterfall') {
        fail(`${this.name}: truncate must be 'round_robin' or 'waterfall', got '${config.truncate}'.`);
      }
      this.paddingSide = config.paddingSide || 'right';
    }

    call(inputs) {
      const segments = (Array.isArray(inputs) ? inputs : [inputs]).map(raggedRows);
      const n = segments.length, length = this.sequenceLength;
      const budget = length - this.startValue.length - (n - 1) * this.sepValue.length - this.endValue.length;
      const trim = this.truncate === 'waterfall' ? waterfall : roundRobin;
      const ids = [], segmentIds = [];
      for (let b = 0; b < segments[0].length; b++) {
        const rows = segments.map((segment) => segment[b]);
        const kept = trim(rows.map((row) => row.length), budget);
        const tokens = this.startValue.slice(), owners = this.startValue.map(() => 0);
        rows.forEach((row, s) => {
          const piece = head(row, kept[s]);
          const tail = s === n - 1 ? this.endValue : this.sepValue;
          for (const id of piece.concat(tail)) { tokens.push(id); owners.push(s); }
        });
        ids.push(padRow(tokens, length, this.padValue === null ? 0 : this.padValue, this.paddingSide));
        segmentIds.push(padRow(owners, length, 0, this.paddingSide));
      }
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const shape = x.rank === 1 ? [length] : [ids.length, length];
      return [tf.tensor(ids.flat(), shape, 'int32'), tf.tensor(segmentIds.flat(), shape, 'int32')];
    }

    computeOutputShape(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      const out = [...shape.slice(0, -1), this.sequenceLength];
      return [out, out.slice()];
    }

    getConfig() {
      return Object.assign({}, super.getConfig(), {
        sequenceLength: this.sequenceLength, startValue: this.startValue, endValue: this.endValue,
        sepValue: this.sepValue, padValue: this.padValue, truncate: this.truncate, paddingSide: this.paddingSide});
    }
  }
  return [WebnetsStartEndPacker, WebnetsMultiSegmentPacker];
}

export {definePackers};
