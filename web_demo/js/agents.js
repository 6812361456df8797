// Agents panel: the DQN plays the maze live (showing each action's Q-value) and
// balances CartPole. The environments follow the Python ones exactly (meta.json).
(function (WN) {
  'use strict';
  WN.provide('agents', ['core', 'models', 'cards']);

  // The agent's latest decision, in its model card (the panel shows the full Q-table).
  function showDecision(record, text) {
    const line = document.createElement('p');
    line.className = 'decision';
    line.textContent = text;
    record.card.result.replaceChildren(line);
  }

  function initMaze(record) {
    const spec = record.meta.inputs[0].preprocessing;
    const layout = spec.layout;
    const rows = layout.length;
    const cols = layout[0].length;
    const canvas = document.getElementById('maze-canvas');
    const ctx = canvas.getContext('2d');
    const status = document.getElementById('maze-status');
    const table = document.getElementById('maze-q');
    const actions = spec.actions;
    const free = [];
    layout.forEach((row, r) => Array.from(row).forEach((c, k) => { if (c === '.') free.push([r, k]); }));
    const state = {agent: free[0], steps: 0, done: false, returned: 0, playing: false};

    // The encoding is meta.json's `planes` table, the one the Python env builds its observations
    // from: channel k is 1 on the cells showing planes[k].symbol, or on the agent's cell (symbol null).
    const planes = spec.planes;
    function observation() {
      const depth = planes.length;
      const data = new Array(rows * cols * depth).fill(0);
      planes.forEach((plane, k) => {
        if (plane.symbol === null) {
          data[(state.agent[0] * cols + state.agent[1]) * depth + k] = 1;
          return;
        }
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) if (layout[r][c] === plane.symbol) data[(r * cols + c) * depth + k] = 1;
        }
      });
      return {shape: [1, rows, cols, depth], data};
    }
    function draw() {
      const cell = canvas.width / cols;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          ctx.fillStyle = layout[r][c] === '#' ? '#30363d' : layout[r][c] === 'G' ? '#2da44e' : '#f6f8fa';
          ctx.fillRect(c * cell, r * cell, cell, cell);
        }
      }
      ctx.fillStyle = '#1f6feb';
      ctx.beginPath();
      ctx.arc((state.agent[1] + 0.5) * cell, (state.agent[0] + 0.5) * cell, cell * 0.35, 0, 2 * Math.PI);
      ctx.fill();
    }
    function showQ(q, best) {
      table.replaceChildren(...actions.map((name, i) => {
        const tr = document.createElement('tr');
        if (i === best) tr.className = 'best';
        const a = document.createElement('td');
        a.textContent = name;
        const v = document.createElement('td');
        v.textContent = q[i].toFixed(3);
        tr.append(a, v);
        return tr;
      }));
    }
    function setStatus(text, outcome) {
      status.textContent = text;
      status.dataset.outcome = outcome || '';
    }
    function reset(start) {
      stop();
      state.agent = start || free[Math.floor(Math.random() * free.length)];
      state.steps = 0;
      state.done = false;
      state.returned = 0;
      table.replaceChildren();
      showDecision(record, 'Press Play or Step: the agent picks the action with the highest Q-value.');
      setStatus(`Start at row ${state.agent[0]}, column ${state.agent[1]}.`, '');
      draw();
    }
    async function step() {
      if (state.done) return;
      const [q] = await WN.predict(record, observation());
      const best = q.data.indexOf(Math.max(...q.data));
      showQ(q.data, best);
      const [dr, dc] = spec.moves[actions[best]];
      const next = [state.agent[0] + dr, state.agent[1] + dc];
      if (layout[next[0]][next[1]] !== '#') state.agent = next; // a wall leaves the agent in place
      state.steps += 1;
      const atGoal = layout[state.agent[0]][state.agent[1]] === 'G';
      state.returned += atGoal ? spec.rewards.goal : spec.rewards.step;
      draw();
      showDecision(record, `Step ${state.steps}: ${actions[best]} (Q ${q.data[best].toFixed(3)})` +
        (atGoal ? ` — goal reached, return ${state.returned.toFixed(2)}` : ''));
      if (atGoal) {
        state.done = true;
        setStatus(`Reached the goal in ${state.steps} steps (return ${state.returned.toFixed(2)}).`, 'goal');
      } else if (state.steps >= spec.max_episode_steps) {
        state.done = true;
        setStatus(`Out of time after ${state.steps} steps.`, 'timeout');
      } else {
        setStatus(`Step ${state.steps}: ${actions[best]}.`, 'playing');
      }
      if (state.done) stop();
    }
    function stop() {
      state.playing = false;
      document.getElementById('maze-play').textContent = 'Play';
    }
    // One step at a time: the next starts only after the previous prediction returned.
    async function play() {
      const pause = Number(WN.params.get('maze_ms') || 250);
      state.playing = true;
      document.getElementById('maze-play').textContent = 'Pause';
      while (state.playing && !state.done) {
        await step();
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
      stop();
    }
    let stepping = false;
    document.getElementById('maze-step').addEventListener('click', async () => {
      if (stepping || state.playing) return;
      stepping = true;
      try { await step(); } finally { stepping = false; }
    });
    document.getElementById('maze-reset').addEventListener('click', () => reset());
    document.getElementById('maze-play').addEventListener('click', () => {
      if (state.playing) return stop();
      if (state.done) reset();
      play();
    });
    reset(free[0]);
    WN.maze = {reset, step, state};
  }

  // CartPole's Euler step as gymnasium computes it, with the constants meta.json carries
  // (read from gymnasium's env when the model was exported).
  function initCartPole(record) {
    const canvas = document.getElementById('cartpole-canvas');
    const ctx = canvas.getContext('2d');
    const status = document.getElementById('cartpole-status');
    const repeat = record.meta.action_repeat || 1;
    const d = record.meta.inputs[0].preprocessing.dynamics;
    if (d.integrator !== 'euler') {
      showDecision(record, `This page simulates CartPole with Euler steps, not '${d.integrator}'.`);
      return;
    }
    const P = {gravity: d.gravity, massCart: d.mass_cart, massPole: d.mass_pole, length: d.half_pole_length,
      force: d.force, tau: d.tau, xLimit: d.x_limit, thetaLimit: d.theta_limit, maxSteps: d.max_episode_steps,
      resetRange: d.reset_range};
    let s = null;
    let steps = 0;
    let playing = false;

    function reset() {
      s = Array.from({length: 4}, () => (Math.random() * 2 - 1) * P.resetRange);
      steps = 0;
      draw();
      status.textContent = 'Ready.';
      showDecision(record, 'Press Play: each step the agent pushes the cart towards the higher Q-value.');
    }
    function physics(action) {
      const [x, xDot, theta, thetaDot] = s;
      const force = action === 1 ? P.force : -P.force;
      const total = P.massCart + P.massPole;
      const poleMassLength = P.massPole * P.length;
      const cos = Math.cos(theta);
      const sin = Math.sin(theta);
      const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / total;
      const thetaAcc = (P.gravity * sin - cos * temp) / (P.length * (4 / 3 - P.massPole * cos * cos / total));
      const xAcc = temp - poleMassLength * thetaAcc * cos / total;
      s = [x + P.tau * xDot, xDot + P.tau * xAcc, theta + P.tau * thetaDot, thetaDot + P.tau * thetaAcc];
      steps += 1;
      return Math.abs(s[0]) > P.xLimit || Math.abs(s[2]) > P.thetaLimit;
    }
    function draw() {
      const w = canvas.width;
      const h = canvas.height;
      ctx.fillStyle = '#f6f8fa';
      ctx.fillRect(0, 0, w, h);
      const scale = w / (2 * P.xLimit * 1.2);
      const cx = w / 2 + s[0] * scale;
      const cy = h - 40;
      ctx.fillStyle = '#30363d';
      ctx.fillRect(0, cy + 15, w, 2);
      ctx.fillRect(cx - 25, cy - 12, 50, 24);
      ctx.strokeStyle = '#bf8700';
      ctx.lineWidth = 6;
      ctx.beginPath();
      ctx.moveTo(cx, cy - 12);
      ctx.lineTo(cx + Math.sin(s[2]) * 2 * P.length * scale, cy - 12 - Math.cos(s[2]) * 2 * P.length * scale);
      ctx.stroke();
    }
    async function tick() {
      const [q] = await WN.predict(record, {shape: [1, 4], data: s});
      const action = q.data[1] > q.data[0] ? 1 : 0;
      let fell = false;
      for (let k = 0; k < repeat && !fell && steps < P.maxSteps; k++) fell = physics(action);
      draw();
      showDecision(record, `Step ${steps}: push ${action === 1 ? 'right' : 'left'} ` +
        `(Q ${Math.max(q.data[0], q.data[1]).toFixed(2)} vs ${Math.min(q.data[0], q.data[1]).toFixed(2)})`);
      status.textContent = fell ? `The pole fell after ${steps} steps.` :
        steps >= P.maxSteps ? `Balanced for all ${steps} steps.` : `Step ${steps}.`;
    }
    function stop() {
      playing = false;
      document.getElementById('cartpole-play').textContent = 'Play';
    }
    function over() {
      return steps >= P.maxSteps || Math.abs(s[0]) > P.xLimit || Math.abs(s[2]) > P.thetaLimit;
    }
    async function play() {
      playing = true;
      document.getElementById('cartpole-play').textContent = 'Pause';
      while (playing && !over()) {
        await tick();
        await new Promise((resolve) => setTimeout(resolve, 20 * repeat));
      }
      stop();
    }
    document.getElementById('cartpole-reset').addEventListener('click', () => { stop(); reset(); });
    document.getElementById('cartpole-play').addEventListener('click', () => {
      if (playing) return stop();
      if (over()) reset();
      play();
    });
    reset();
  }

  // The environments this page can simulate, by the id meta.json names (inputs[0].preprocessing.environment).
  const ENVIRONMENTS = {'webnets/Maze-v0': initMaze, 'CartPole-v1': initCartPole};

  WN.initAgents = function (records) {
    for (const record of records) {
      const id = ((record.meta.inputs || [])[0] || {}).preprocessing?.environment;
      if (ENVIRONMENTS[id]) ENVIRONMENTS[id](record);
      else showDecision(record, `This page has no simulation of the environment '${id}'.`);
    }
  };
})(window.WN = window.WN || {});
