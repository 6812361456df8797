// One card per model: state, the figures people compare, and the model's result area.
(function (WN) {
  'use strict';
  WN.provide('cards', ['core', 'models']);
  const FIELDS = [['params', 'Parameters'], ['size', 'Download'], ['quantization', 'Weights'],
    ['backend', 'Backend'], ['load', 'Load time'], ['latency', 'Latency (median)']];

  function bytes(n) {
    if (n == null) return '–';
    return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MB` : `${(n / 1024).toFixed(0)} KB`;
  }

  WN.createCard = function (container, entry) {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.model = entry.name;
    card.dataset.state = 'loading';
    card.dataset.backend = '';
    const title = document.createElement('h3');
    const name = document.createElement('span');
    name.textContent = entry.display_name || entry.name; // the zoo names its models (index.json)
    const state = document.createElement('span');
    state.className = 'state';
    state.textContent = 'loading';
    title.append(name, state);
    const result = document.createElement('div');
    result.className = 'result';
    result.setAttribute('aria-live', 'polite');
    const list = document.createElement('dl');
    const values = {};
    for (const [key, label] of FIELDS) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = '–';
      values[key] = dd;
      list.append(dt, dd);
    }
    card.append(title, result, list);
    container.append(card);
    values.params.textContent = entry.parameter_count != null ? entry.parameter_count.toLocaleString('en') : '–';
    values.size.textContent = bytes(entry.bytes_total);
    values.quantization.textContent = entry.quantization === 'none' ? 'float32' : (entry.quantization || '–');
    return {element: card, result, state, values};
  };

  WN.setCardState = function (card, state, detail) {
    card.element.dataset.state = state;
    card.state.textContent = state;
    if (state === 'error') {
      card.result.textContent = '';
      const message = document.createElement('p');
      message.className = 'error';
      message.textContent = `Could not load: ${detail}`;
      card.result.append(message);
    }
  };

  WN.showFigures = function (card, record) {
    card.element.dataset.backend = record.backend;
    card.values.backend.textContent = record.backend;
    card.values.load.textContent = `${record.loadMs.toFixed(0)} ms`;
    if (record.version) card.values.quantization.textContent = `${record.meta.quantization} · v${record.version} (CDN)`;
    const median = WN.median(record.latencies);
    card.values.latency.textContent = median == null ? '–' : `${median.toFixed(1)} ms (${record.latencies.length} runs)`;
  };
})(window.WN = window.WN || {});
