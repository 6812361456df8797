// Text panel: SimpleRNN, LSTM and GRU continue a prompt side by side, one character at a time.
(function (WN) {
  'use strict';
  WN.provide('text', ['core', 'models', 'cards']);
  const CONTEXT = 96; // characters fed back each step (the models are stateless in the browser)

  function encoder(meta) {
    const pre = meta.inputs[0].preprocessing || {};
    const vocabulary = Array.from(pre.vocabulary || (meta.labels || []).join(''));
    const index = new Map(vocabulary.map((c, i) => [c, i]));
    const normalize = pre.normalize || {};
    return (text) => {
      let t = pre.lowercase ? text.toLowerCase() : text;
      t = Array.from(t).map((c) => normalize[c] || c);
      return t.map((c) => (index.has(c) ? index.get(c) : (pre.unknown || 0)));
    };
  }

  // The next character's probabilities: the last time step of [1, T, vocab], sliced in TF.js.
  const lastStep = (output) => output.slice([0, output.shape[1] - 1, 0], [1, 1, output.shape[2]]);

  function sample(probs, temperature) {
    const logits = probs.map((p) => Math.log(Math.max(p, 1e-12)) / temperature);
    const top = Math.max(...logits);
    const weights = logits.map((l) => Math.exp(l - top));
    let r = Math.random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r <= 0) return i;
    }
    return weights.length - 1;
  }

  async function continueText(record, prompt, length, temperature) {
    const encode = encoder(record.meta);
    const labels = record.meta.labels;
    let ids = encode(prompt);
    if (!ids.length) ids = encode(' ');
    const out = document.createElement('pre');
    out.className = 'generated';
    const shown = document.createElement('span');
    shown.className = 'prompt';
    shown.textContent = prompt;
    const added = document.createElement('span');
    out.append(shown, added);
    record.card.result.replaceChildren(out);
    let text = '';
    for (let n = 0; n < length; n++) {
      const context = ids.slice(-CONTEXT);
      const [probs] = await WN.predict(record, {shape: [1, context.length], data: context, dtype: 'int32'},
        {select: lastStep});
      const next = sample(probs.data, temperature);
      ids.push(next);
      text += labels[next] === '\ufffd' ? '?' : labels[next];
      if (n % 4 === 3 || n === length - 1) {
        added.textContent = text;
        await tf.nextFrame();
      }
    }
  }

  WN.initText = function (records) {
    const prompt = document.getElementById('text-prompt');
    const temperature = document.getElementById('text-temperature');
    const length = document.getElementById('text-length');
    const button = document.getElementById('text-generate');
    for (const [input, output] of [[temperature, 'text-temperature-value'], [length, 'text-length-value']]) {
      input.addEventListener('input', () => { document.getElementById(output).textContent = input.value; });
    }
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await Promise.all(records.map((r) => continueText(r, prompt.value, Number(length.value), Number(temperature.value))));
      } finally {
        button.disabled = false;
      }
    });
    if (records.length && WN.params.get('autoplay') !== '0') button.click();
  };
})(window.WN = window.WN || {});
