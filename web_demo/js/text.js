// Text panel: SimpleRNN, LSTM and GRU continue a prompt side by side, one character at a time.
// Each language model has a step model (exporter/pipeline/step_form.py; its meta.json "step"
// names it): the state of every recurrent layer goes in and comes out, so the page feeds the
// prompt once and then one character per step, carrying the state. Without a step model (a CDN
// that does not publish one, an older export) the page falls back to feeding the last CONTEXT
// characters to the sequence model at every step.
(function (WN) {
  'use strict';
  WN.provide('text', ['core', 'backend', 'models', 'cards']);
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

  // Queues one step of `card`'s step model (tokens [1, T] and the carried states) and returns a
  // promise of the next character's probabilities. Everything up to the read-back runs
  // synchronously, so when every card is dispatched before any read is awaited, a round of all
  // cards costs one wait for the backend (on WebGL one GPU sync, not one per card).
  // execute() with the output names, not predict(): predict slices the batch and concatenates the
  // outputs, extra kernels on every character.
  function dispatchStep(card, ids) {
    const {model, outputNames} = card.step;
    const x = tf.tensor(ids, [1, ids.length], 'int32');
    let outputs;
    try {
      outputs = model.execute([x, ...card.states], outputNames);
    } finally {
      x.dispose();
    }
    tf.dispose(card.states);
    card.states = outputs.slice(1);
    // [1, T, vocab]: one step needs no slice (a kernel saved on every character).
    const probs = outputs[0].shape[1] === 1 ? outputs[0] : lastStep(outputs[0]);
    if (probs !== outputs[0]) outputs[0].dispose();
    return probs.data().then((data) => Array.from(data)).finally(() => probs.dispose());
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
      const created = meta.golden.inputs.map(WN.inputTensor);
      const outputs = model.predict(created);
      const values = await Promise.all(outputs.map((o) => o.data()));
      tf.dispose([...created, ...outputs]);
      const error = Math.max(...meta.golden.outputs.map((g, i) => WN.relativeError(values[i], g.data)));
      if (!(error <= meta.golden.bound)) {
        model.dispose();
        throw new Error(`the step model does not reproduce its golden outputs (relative error ${error.toExponential(2)})`);
      }
    }
    // One character's step, untimed, so that the first click does not pay for compiling it
    // (WebGL shaders, WASM operators for these shapes).
    const card = {step, states: model.inputs.slice(1).map((input) => tf.zeros([1, input.shape[1]]))};
    await dispatchStep(card, [0]);
    tf.dispose(card.states);
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
  // How often the cards show their text and the page gets a turn while generating. Each turn costs
  // a frame, and a frame is not cheap where the page is composited in software (SwiftShader, as on
  // this project's test machine: 120 characters on WASM took 0.16 s without turns, 0.30 s with one
  // every 100 ms); five a second still read as streaming text.
  const SHOW_EVERY_MS = 200;

  // A card about to generate: its output elements, trace (what window.webnets.textRuns holds for
  // tests: probabilities, draws, characters, timings) and, with a step model, the carried state.
  function startCard(record, step, prompt) {
    const encode = encoder(record.meta);
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
    return {
      record, step, ids, added, rate, text: '', failed: null,
      states: step ? step.model.inputs.slice(1).map((input) => tf.zeros([1, input.shape[1]])) : [],
      trace: {mode: step ? 'step' : 'window', prompt: ids.slice(), probs: [], draws: [], next: [], stepMs: [],
        promptMs: null, charsPerSecond: null, stepMsMedian: null, wallMs: null},
    };
  }

  // Card `card`'s probabilities for step n (the prompt at n = 0): the step model with the carried
  // state, or, without one, the last CONTEXT characters fed to the sequence model.
  function nextProbabilities(card, n) {
    if (card.step) return dispatchStep(card, n === 0 ? card.ids : [card.ids[card.ids.length - 1]]);
    const context = card.ids.slice(-CONTEXT);
    return WN.predict(card.record, {shape: [1, context.length], data: context, dtype: 'int32'},
      {select: lastStep, timed: false}).then(([{data}]) => data);
  }

  function rateText(card, length, wallMs) {
    const t = card.trace;
    const how = t.mode === 'step' ? 'state carried' : `last ${CONTEXT} characters fed back`;
    const warm = t.stepMs.length - 1;
    if (wallMs == null) return `${t.charsPerSecond.toFixed(1)} characters/s (median of ${warm} warm steps, ${how})`;
    return `${t.charsPerSecond.toFixed(1)} characters/s (median of ${warm} warm steps, ${how}); ` +
      `${length} in ${(wallMs / 1000).toFixed(1)} s with all cards at once`;
  }

  function show(card) {
    const t = card.trace;
    card.added.textContent = card.text;
    const warm = t.stepMs.slice(1);
    t.stepMsMedian = WN.median(warm.length ? warm : t.stepMs);
    if (t.stepMsMedian) {
      t.charsPerSecond = 1000 / t.stepMsMedian;
      card.rate.textContent = rateText(card);
    }
    if (card.record.onTimed) card.record.onTimed(card.record);
  }

  // Every card continues the prompt, all in lockstep: each round dispatches one step of every card,
  // then waits for all their probabilities at once, then samples each card's next character. A
  // card's step time is the round's (what one character costs with every card generating). A card
  // that fails says why on its card; the others go on. -> {name: trace}
  // One step's GPU work is short: its read-back polls without the 4 ms clamp (js/backend.js).
  function continueAll(...args) {
    return WN.withQuickReadback(() => generate(...args));
  }

  async function generate(records, prompt, length, temperature, randoms) {
    const steps = await Promise.all(records.map(stepFor));
    let cards = records.map((record, i) => Object.assign(startCard(record, steps[i], prompt), {random: randoms[i]}));
    const all = cards.slice();
    const started = performance.now();
    let lastShown = started;
    try {
      for (let n = 0; n < length && cards.length; n++) {
        const t0 = performance.now();
        const probs = await Promise.all(cards.map((card) => {
          try {
            return nextProbabilities(card, n).catch((error) => { card.failed = error; return null; });
          } catch (error) {
            card.failed = error;
            return null;
          }
        }));
        const ms = performance.now() - t0;
        cards.forEach((card, k) => {
          if (card.failed) return;
          const t = card.trace;
          if (n === 0) t.promptMs = ms; else t.stepMs.push(ms);
          // The card's latency: one character, warm (the prompt pass and the first, cold step left out).
          if (n >= 2) {
            card.record.latencies.push(ms);
            if (card.record.latencies.length > 30) card.record.latencies.shift();
          }
          const u = card.random();
          const next = sample(probs[k], temperature, u);
          t.probs.push(probs[k]);
          t.draws.push(u);
          t.next.push(next);
          card.ids.push(next);
          const labels = card.record.meta.labels;
          card.text += labels[next] === '\ufffd' ? '?' : labels[next];
        });
        for (const card of cards.filter((c) => c.failed)) {
          card.rate.textContent = `Generation failed: ${card.failed.message || card.failed}`;
          console.warn(`${card.record.name}: generation failed:`, card.failed);
        }
        cards = cards.filter((c) => !c.failed);
        if (performance.now() - lastShown > SHOW_EVERY_MS || n === length - 1) {
          cards.forEach(show);
          await yieldToPage();
          lastShown = performance.now();
        }
      }
    } finally {
      all.forEach((card) => tf.dispose(card.states));
    }
    const wallMs = performance.now() - started;
    for (const card of cards) {
      const t = card.trace;
      t.wallMs = wallMs;
      t.wallCharsPerSecond = length / (wallMs / 1000);
      if (t.charsPerSecond) card.rate.textContent = rateText(card, length, wallMs);
    }
    return Object.fromEntries(all.map((card) => [card.record.name, card.trace]));
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
        const seed = WN.params.get('seed'); // ?seed=N: reproducible draws (card i: seed N + i), for tests
        const randoms = records.map((r, i) => (seed === null ? Math.random : WN.seededRandom(parseInt(seed, 10) + i)));
        const traces = await continueAll(records, settings.prompt, settings.length, settings.temperature, randoms);
        for (const [name, trace] of Object.entries(traces)) runs[name] = {...settings, ...trace};
      } finally {
        button.disabled = false;
      }
    });
    if (records.length && WN.params.get('autoplay') !== '0') button.click();
  };
})(window.WN = window.WN || {});
