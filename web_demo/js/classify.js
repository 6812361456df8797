// Text classification panel: models that take raw text (meta.json inputs[0].dtype "string"; the zoo's
// TextCNN spam filter). The page feeds the text as typed, one string per sample: the model's own
// TextVectorization layer (webnets' WebnetsTextVectorization, from webnets-layers.js) lower-cases,
// strips punctuation, splits and looks the words up, as Keras did in training. Each card shows the
// class probabilities and the tokens as the model sees them, computed by that same layer object
// (its tokenIds(text)): the standardized words, each with its id, [UNK] for words outside the
// vocabulary, where the row is cut (output_sequence_length) and how many padding zeros follow.
// window.webnets.classifyRuns[name] holds the last run (text, probabilities, ids) for tests.
(function (WN) {
  'use strict';
  WN.provide('classify', ['core', 'models', 'cards']);
  const DEBOUNCE_MS = 250;  // classify while typing, once the typing pauses

  // The model's TextVectorization layer: the one with tokenIds (webnets-layers.js' text section).
  function vectorizerOf(model) {
    return model.layers.find((layer) => typeof layer.tokenIds === 'function') || null;
  }

  // {tokens: [{token, id, shown, read}], length, padding}: every token of `text`, the vocabulary's
  // spelling of its id ('[UNK]' for an unknown word), and whether it falls inside the row the model
  // reads (output_sequence_length words; null: the whole text).
  function explain(layer, text) {
    const length = layer.outputSequenceLength;
    const tokens = layer.tokenIds(text).map(({token, id}, i) => ({
      token, id, shown: layer.vocabulary.token(id), read: length == null || i < length}));
    const read = tokens.filter((t) => t.read).length;
    return {tokens, length, padding: length == null ? 0 : length - read};
  }

  function renderProbabilities(labels, probabilities) {
    const list = document.createElement('ol');
    list.className = 'probabilities';
    const best = probabilities.indexOf(Math.max(...probabilities));
    probabilities.forEach((p, k) => {
      const item = document.createElement('li');
      item.dataset.label = labels[k];
      item.dataset.p = String(p);  // the full float32 value; the text shows four decimals
      if (k === best) item.className = 'best';
      const name = document.createElement('span');
      name.textContent = labels[k];
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(100 * p).toFixed(1)}%`;
      const value = document.createElement('span');
      value.className = 'p';
      value.textContent = p.toFixed(4);
      item.append(name, bar, value);
      list.append(item);
    });
    return list;
  }

  function renderTokens(view) {
    const box = document.createElement('div');
    box.className = 'tokens';
    box.setAttribute('aria-label', 'The tokens as the model sees them, with their ids');
    for (const t of view.tokens) {
      const chip = document.createElement('span');
      chip.className = `token${t.shown !== t.token ? ' oov' : ''}${t.read ? '' : ' cut'}`;
      chip.dataset.id = String(t.id);
      chip.dataset.token = t.token;
      chip.title = t.shown !== t.token ? `"${t.token}" is not in the vocabulary: id ${t.id} (${t.shown})`
        : `id ${t.id}${t.read ? '' : ' (past the words the model reads)'}`;
      const word = document.createElement('span');
      word.className = 'word';
      word.textContent = t.shown;
      chip.append(word);
      if (t.shown !== t.token) {
        const original = document.createElement('span');
        original.className = 'original';
        original.textContent = t.token;
        chip.append(original);
      }
      const id = document.createElement('sub');
      id.textContent = String(t.id);
      chip.append(id);
      box.append(chip);
    }
    const summary = document.createElement('p');
    summary.className = 'hint token-summary';
    const read = view.tokens.filter((t) => t.read).length;
    const unknown = view.tokens.filter((t) => t.read && t.shown !== t.token).length;
    const cut = view.tokens.length - read;
    summary.textContent = `${view.tokens.length} token${view.tokens.length === 1 ? '' : 's'}, ${unknown} unknown ([UNK])`
      + (cut ? `; the model reads the first ${view.length}, ${cut} more are cut` : '')
      + (view.padding ? `; ${view.padding} padding id${view.padding === 1 ? '' : 's'} (0) follow` : '');
    summary.dataset.padding = String(view.padding);
    return [box, summary];
  }

  WN.initClassify = function (records) {
    const panel = document.getElementById('panel-classify');
    const input = document.getElementById('classify-text');
    const button = document.getElementById('classify-run');
    const samples = document.getElementById('classify-samples');
    const runs = {};
    if (window.webnets) window.webnets.classifyRuns = runs;
    let latest = 0;
    let timer = null;

    async function classifyOne(record, text) {
      const layer = vectorizerOf(record.model);
      const [output] = await WN.predict(record, {shape: [1, 1], data: [text], dtype: 'string'});
      const view = layer ? explain(layer, text) : null;
      return {record, text, probabilities: output.data, view};
    }

    async function classify() {
      const run = ++latest;
      const text = input.value;
      panel.dataset.state = 'running';
      const results = await Promise.all(records.map((record) => classifyOne(record, text).catch((error) => ({record, error}))));
      if (run !== latest) return;  // a newer text is being classified; it renders instead
      for (const result of results) {
        const {record} = result;
        const body = document.createElement('div');
        body.className = 'classification';
        body.dataset.text = text;
        if (result.error) {
          const message = document.createElement('p');
          message.className = 'error';
          message.textContent = `Classification failed: ${result.error.message || result.error}`;
          body.append(message);
          runs[record.name] = {text, error: String(result.error.message || result.error)};
        } else {
          body.append(renderProbabilities(record.meta.labels, result.probabilities));
          if (result.view) {
            body.append(...renderTokens(result.view));
          } else {
            const note = document.createElement('p');
            note.className = 'hint';
            note.textContent = 'This model\'s webnets-layers.js has no token view (an older export).';
            body.append(note);
          }
          const view = result.view;
          runs[record.name] = {text, probabilities: result.probabilities, labels: record.meta.labels,
            tokens: view ? view.tokens : null, padding: view ? view.padding : null,
            ids: view ? [...view.tokens.filter((t) => t.read).map((t) => t.id), ...new Array(view.padding).fill(0)] : null};
        }
        record.card.result.replaceChildren(body);
      }
      panel.dataset.state = 'done';
    }

    // Example texts: the first model's meta.json "samples" (held-out test messages of each class).
    const examples = (records[0] && records[0].meta.samples) || [];
    const counts = {};
    for (const sample of examples) {
      counts[sample.label] = (counts[sample.label] || 0) + 1;
      const example = document.createElement('button');
      example.type = 'button';
      example.textContent = `${sample.label} ${counts[sample.label]}`;
      example.title = sample.text.slice(0, 200);
      example.addEventListener('click', () => {
        input.value = sample.text;
        classify();
      });
      samples.append(example);
    }
    button.addEventListener('click', () => {
      clearTimeout(timer);
      classify();
    });
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(classify, DEBOUNCE_MS);
    });
    if (records.length) classify();
  };
})(window.WN = window.WN || {});
