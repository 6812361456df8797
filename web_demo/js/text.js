// Text panel: SimpleRNN, LSTM and GRU continue a prompt side by side, one character at a time.
// Each language model has a step model (exporter/pipeline/step_form.py; its meta.json "step"
// names it): the state of every recurrent layer goes in and comes out, so the page feeds the
// prompt once and then one character per step, carrying the state. Without a step model (a CDN
// that does not publish one, an older export) the page falls back to feeding the last CONTEXT
// characters to the sequence model at every step.
(function (WN) {
  'use strict';
  WN.provide('text', ['core', 'models', 'cards']);
  const CONTEXT = 96; // fallback only: characters fed back each step to the stateless sequence model

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

  // ?seed=N: reproducible draws (mulberry32; card i draws from seed N + i), for tests; otherwise Math.random.
  function randomSource(seed) {
    let a = (seed >>> 0) || 1;
    return () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Temperature sampling from the model's probabilities with one uniform draw u in [0, 1):
  // softmax(log(p) / T), then the first index where the running sum reaches u * total.
  // tests/test_browser.py repeats it in Python on the page's probabilities and draws.
  function sample(probs, temperature, u) {
    const logits = probs.map((p) => Math.log(Math.max(p, 1e-12)) / temperature);
    const top = Math.max(...logits);
    const weights = logits.map((l) => Math.exp(l - top));
    let r = u * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r <= 0) return i;
    }
    return weights.length - 1;
  }

  // Runs the step model on tokens [1, T] and the states; returns the last step's probabilities
  // (read back) and the new states (tensors, the caller's to dispose). Disposes the inputs it made.
  // execute() with the output names, not predict(): predict slices the batch and concatenates the
  // outputs, extra kernels on every character.
  async function runStep(step, ids, states) {
    const x = tf.tensor(ids, [1, ids.length], 'int32');
    let outputs = [];
    try {
      outputs = step.model.execute([x, ...states], step.outputNames);
      const last = lastStep(outputs[0]);
      const probs = Array.from(await last.data());
      last.dispose();
      outputs[0].dispose();
      return {probs, states: outputs.slice(1)};
    } catch (error) {
      tf.dispose(outputs);
      throw error;
    } finally {
      x.dispose();
    }
  }

  // The step model of `record` (meta.json "step"), loaded like the sequence model (model.js from
  // disk, model.json over http) and checked against its own golden vectors; null if there is none.
  async function loadStep(record) {
    const ref = record.meta.step;
    if (!ref || WN.cdn) return null;  // published versions carry the sequence model only
    const dir = `${WN.base}/${ref.name}`;
    const {model, meta} = await WN.loadLayers(ref.name, {
      dir, model: `${WN.base}/${ref.model}`, meta: `${WN.base}/${ref.meta}`, integrity: {}, version: null});
    const step = {model, meta, outputNames: model.outputs.map((o) => o.name)};
    if (meta.golden) {
      const created = meta.golden.inputs.map((g) => tf.tensor(g.data, g.shape, g.dtype === 'int32' ? 'int32' : 'float32'));
      const outputs = model.predict(created);
      const values = await Promise.all(outputs.map((o) => o.data()));
      tf.dispose([...created, ...outputs]);
      const error = Math.max(...meta.golden.outputs.map((g, i) => WN.relativeError(values[i], g.data)));
      if (!(error <= meta.golden.bound)) {
        model.dispose();
        throw new Error(`the step model does not reproduce its golden outputs (relative error ${error.toExponential(2)})`);
      }
    }
    return step;
  }

  function stepFor(record) {
    if (!record.stepLoading) {
      record.stepLoading = loadStep(record).catch((error) => {
        console.warn(`${record.name}: no step model (${error.message || error}); feeding back ${CONTEXT} characters instead`);
        return null;
      });
    }
    return record.stepLoading;
  }

  // A macrotask turn, so the page renders and handles input (a resolved promise would not yield).
  const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

  // One card's generation: the prompt once, then one character per step. Returns the trace (probabilities,
  // draws, characters, timings) that window.webnets.textRuns holds for tests.
  async function continueText(record, prompt, length, temperature, random) {
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
    const rate = document.createElement('p');
    rate.className = 'rate';
    rate.textContent = '…';
    record.card.result.replaceChildren(out, rate);
    const step = await stepFor(record);
    const trace = {mode: step ? 'step' : 'window', prompt: ids.slice(), probs: [], draws: [], next: [],
      stepMs: [], promptMs: null, charsPerSecond: null, stepMsMedian: null, wallMs: null};
    const started = performance.now();
    let lastShown = started;
    let text = '';
    let states = step ? step.model.inputs.slice(1).map((input) => tf.zeros([1, input.shape[1]])) : [];
    try {
      let probs;
      for (let n = 0; n < length; n++) {
        const t0 = performance.now();
        if (step) {
          // The prompt in one call (T steps), then one character per call.
          const result = await runStep(step, n === 0 ? ids : [ids[ids.length - 1]], states);
          tf.dispose(states);
          states = result.states;
          probs = result.probs;
        } else {
          const context = ids.slice(-CONTEXT);
          [{data: probs}] = await WN.predict(record, {shape: [1, context.length], data: context, dtype: 'int32'},
            {select: lastStep, timed: false});
        }
        const ms = performance.now() - t0;
        if (n === 0) trace.promptMs = ms; else trace.stepMs.push(ms);
        // The card's latency: one character, warm (the prompt pass and the first, cold step left out).
        if (n >= 2) {
          record.latencies.push(ms);
          if (record.latencies.length > 30) record.latencies.shift();
          if (record.onTimed) record.onTimed(record);
        }
        const u = random();
        const next = sample(probs, temperature, u);
        trace.probs.push(probs);
        trace.draws.push(u);
        trace.next.push(next);
        ids.push(next);
        text += labels[next] === '\ufffd' ? '?' : labels[next];
        // Show the text and give the page a turn every ~50 ms (not every few characters: each
        // yield costs a task, and at hundreds of characters per second that would be most of it).
        if (performance.now() - lastShown > 50 || n === length - 1) {
          lastShown = performance.now();
          added.textContent = text;
          const warm = trace.stepMs.slice(1);
          trace.stepMsMedian = WN.median(warm.length ? warm : trace.stepMs);
          if (trace.stepMsMedian) {
            trace.charsPerSecond = 1000 / trace.stepMsMedian;
            rate.textContent = `${trace.charsPerSecond.toFixed(1)} characters/s (median of ${warm.length} warm steps, ` +
              `${trace.mode === 'step' ? 'state carried' : `last ${CONTEXT} characters fed back`})`;
          }
          await yieldToPage();
        }
      }
    } finally {
      tf.dispose(states);
    }
    trace.wallMs = performance.now() - started;
    trace.wallCharsPerSecond = length / (trace.wallMs / 1000);
    if (trace.charsPerSecond) {
      rate.textContent = `${trace.charsPerSecond.toFixed(1)} characters/s per step (median of ${trace.stepMs.length - 1} ` +
        `warm steps, ${trace.mode === 'step' ? 'state carried' : `last ${CONTEXT} characters fed back`}); ` +
        `${length} in ${(trace.wallMs / 1000).toFixed(1)} s with all cards at once`;
    }
    return trace;
  }

  WN.initText = function (records) {
    const prompt = document.getElementById('text-prompt');
    const temperature = document.getElementById('text-temperature');
    const length = document.getElementById('text-length');
    const button = document.getElementById('text-generate');
    for (const [input, output] of [[temperature, 'text-temperature-value'], [length, 'text-length-value']]) {
      input.addEventListener('input', () => { document.getElementById(output).textContent = input.value; });
    }
    const runs = {};
    if (window.webnets) window.webnets.textRuns = runs;  // tests read the probabilities, draws and rates
    for (const record of records) stepFor(record);  // load the step models while the page settles
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const settings = {prompt: prompt.value, length: Number(length.value), temperature: Number(temperature.value)};
        const seed = WN.params.get('seed');
        await Promise.all(records.map(async (r, i) => {
          const own = seed === null ? Math.random : randomSource(parseInt(seed, 10) + i);
          runs[r.name] = {...settings, ...(await continueText(r, settings.prompt, settings.length, settings.temperature, own))};
        }));
      } finally {
        button.disabled = false;
      }
    });
    if (records.length && WN.params.get('autoplay') !== '0') button.click();
  };
})(window.WN = window.WN || {});
