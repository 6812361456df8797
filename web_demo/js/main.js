// Boot: pick a backend, read the model index, load every model into its card
// (a failing model shows why and the others keep working), then start the panels.
// Exposes window.webnets for tests and other pages (the contract is in the README, "The web demo").
(function (WN) {
  'use strict';
  WN.provide('main', ['core', 'backend', 'runner', 'models', 'cards', 'images', 'text', 'classify', 'agents', 'teach']);
  const PANELS = {'image-classification': 'cards-images', 'text-generation': 'cards-text',
    'text-classification': 'cards-classify',
    'reinforcement-learning': 'cards-agents'};
  const records = {};
  let resolveReady;
  const hook = {
    ready: new Promise((resolve) => { resolveReady = resolve; }),
    models: {},
    backend: null,
    backendFailures: [],
    async predict(name, input) {
      const record = records[name];
      if (!record) throw new Error(`model '${name}' is not loaded (state: ${(hook.models[name] || {}).state || 'unknown'})`);
      return WN.predict(record, input);
    },
  };
  // The package's API stays reachable behind the hook (webnets.load, webnets.cache, ... in this page too).
  Object.setPrototypeOf(hook, WN.package);
  window.webnets = hook;

  async function boot() {
    const status = document.getElementById('backend-status');
    try {
      hook.backend = await WN.selectBackend();
      hook.backendFailures = WN.backend.failures;
      status.textContent = WN.describeBackend();
      if (WN.backend.failures.length) status.classList.add('warn');
    } catch (error) {
      status.textContent = String(error.message || error);
      status.classList.add('warn');
      return;
    }
    let index;
    try {
      index = await WN.loadIndex();
    } catch (error) {
      status.textContent += ` No models: ${error.message}`;
      status.classList.add('warn');
      return;
    }
    const cards = {};
    for (const entry of index.models) {
      const container = document.getElementById(PANELS[entry.task] || 'cards-agents');
      cards[entry.name] = WN.createCard(container, entry);
      hook.models[entry.name] = {state: 'loading', backend: hook.backend};
    }
    await Promise.all(index.models.map(async (entry) => {
      const card = cards[entry.name];
      try {
        const record = await WN.loadModel(entry);
        record.card = card;
        record.onTimed = (r) => WN.showFigures(card, r);
        records[entry.name] = record;
        WN.showFigures(card, record);
        WN.setCardState(card, 'ready');
        hook.models[entry.name] = {state: 'ready', backend: record.backend, loadMs: record.loadMs,
                                   executor: record.executor};
      } catch (error) {
        const reason = String((error && error.message) || error);
        WN.setCardState(card, 'error', reason);
        hook.models[entry.name] = {state: 'error', backend: hook.backend, error: reason};
      }
    }));
    const byTask = (task) => Object.values(records).filter((r) => r.entry.task === task);
    for (const [init, task] of [[WN.initImages, 'image-classification'], [WN.initText, 'text-generation'],
      [WN.initClassify, 'text-classification'],
      [WN.initAgents, 'reinforcement-learning']]) {
      try {
        if (byTask(task).length) init(byTask(task));
      } catch (error) {
        console.warn(`panel for ${task} failed to start:`, error);
      }
    }
    // The Teach panel starts with whatever image classifiers loaded (none: a URL or files from disk).
    try {
      WN.initTeach(byTask('image-classification'));
    } catch (error) {
      console.warn('the Teach panel failed to start:', error);
    }
  }

  boot().finally(() => resolveReady(hook.models));
})(window.WN = window.WN || {});
