// Image panel: draw, upload or pick a Fashion-MNIST test image; every CNN shows its top-5.
(function (WN) {
  'use strict';
  WN.provide('images', ['core', 'models', 'cards']);
  const SIZE = 28;

  // The preprocessing helpers, on WN so that the Teach panel (js/teach.js) turns its samples
  // into model inputs exactly as this panel does.
  // pixels of `source` (a canvas, image or video) shrunk onto `small` (a width x height canvas
  // context): grayscale 0..255 as Fashion-MNIST holds them, one number a pixel, row by row.
  WN.grayPixels = function (source, small, width = SIZE, height = width) {
    small.imageSmoothingEnabled = true;
    small.drawImage(source, 0, 0, width, height);
    const rgba = small.getImageData(0, 0, width, height).data;
    const data = new Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
    return data;
  };
  // `source` drawn centred onto the canvas of `ctx` (black around it), turned grayscale, inverted if asked.
  WN.drawGrayscale = function (ctx, source, invert) {
    const canvas = ctx.canvas;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const width = source.videoWidth || source.width;
    const height = source.videoHeight || source.height;
    const scale = Math.min(canvas.width / width, canvas.height / height);
    const w = width * scale;
    const h = height * scale;
    ctx.drawImage(source, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const d = image.data;
    for (let i = 0; i < d.length; i += 4) {
      let g = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      if (invert) g = 255 - g;
      d[i] = d[i + 1] = d[i + 2] = g;
      d[i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  };
  // Photos are usually a dark object on a light background; Fashion-MNIST is the opposite.
  // True where the top border of `source` is light (mean red above 127), so it should be inverted.
  WN.lightBackground = function (source) {
    const probe = document.createElement('canvas');
    probe.width = probe.height = 8;
    const p = probe.getContext('2d');
    p.drawImage(source, 0, 0, 8, 8);
    const border = p.getImageData(0, 0, 8, 1).data;
    let mean = 0;
    for (let i = 0; i < border.length; i += 4) mean += border[i] / 8;
    return mean > 127;
  };

  WN.initImages = function (records) {
    const canvas = document.getElementById('draw-canvas');
    const preview = document.getElementById('draw-preview');
    const ctx = canvas.getContext('2d');
    const small = preview.getContext('2d', {willReadFrequently: true});
    let drawing = false;
    let pending = null;
    let latest = 0; // the newest classification; an older one that finishes later is not shown
    const pen = {x: canvas.width / 2, y: canvas.height / 2, down: false};

    function clear() {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
    function dot(x, y) {
      ctx.fillStyle = '#fff';
      ctx.beginPath();
      ctx.arc(x, y, 12, 0, 2 * Math.PI);
      ctx.fill();
    }
    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
    }
    // The models see what Fashion-MNIST holds: 28x28, grayscale, 0..255, white on black.
    function pixels() {
      return WN.grayPixels(canvas, small);
    }
    async function classify() {
      const input = {shape: [1, SIZE, SIZE, 1], data: pixels()};
      const request = ++latest;
      await Promise.all(records.map(async (record) => {
        const [probs] = await WN.predict(record, input);
        // Per model: a slow model's answer to an earlier drawing must not replace its newer top-5.
        if (request < (record.shownRequest || 0)) return;
        record.shownRequest = request;
        showTop5(record, probs.data);
      }));
    }
    function schedule() {
      if (pending) return;
      pending = setTimeout(async () => {
        pending = null;
        await classify();
      }, 120);
    }
    function showTop5(record, probs) {
      const labels = record.meta.labels || [];
      const top = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
      const list = document.createElement('ol');
      list.className = 'top5';
      for (const [p, i] of top) {
        const item = document.createElement('li');
        const label = document.createElement('span');
        label.textContent = labels[i] || `class ${i}`;
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.width = `${Math.max(1, p * 100).toFixed(1)}%`;
        const value = document.createElement('span');
        value.className = 'p';
        value.textContent = `${(p * 100).toFixed(1)}%`;
        item.append(label, bar, value);
        list.append(item);
      }
      record.card.result.replaceChildren(list);
    }
    function showImage(source, invert) {
      WN.drawGrayscale(ctx, source, invert);
      schedule();
    }

    canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); dot(...point(e)); schedule(); });
    canvas.addEventListener('pointermove', (e) => { if (drawing) { dot(...point(e)); schedule(); } });
    canvas.addEventListener('pointerup', () => { drawing = false; schedule(); });
    // Keyboard drawing: arrows move the pen, space lifts or lowers it.
    canvas.addEventListener('keydown', (e) => {
      const step = 10;
      const moves = {ArrowUp: [0, -step], ArrowDown: [0, step], ArrowLeft: [-step, 0], ArrowRight: [step, 0]};
      if (e.key === ' ') { pen.down = !pen.down; if (pen.down) dot(pen.x, pen.y); }
      else if (moves[e.key]) {
        pen.x = Math.min(canvas.width, Math.max(0, pen.x + moves[e.key][0]));
        pen.y = Math.min(canvas.height, Math.max(0, pen.y + moves[e.key][1]));
        if (pen.down) dot(pen.x, pen.y);
      } else return;
      e.preventDefault();
      schedule();
    });
    document.getElementById('draw-clear').addEventListener('click', () => { clear(); schedule(); });
    document.getElementById('draw-upload').addEventListener('change', (e) => {
      const file = e.target.files[0];
      if (!file) return;
      const image = new Image();
      image.onload = () => {
        showImage(image, WN.lightBackground(image));
        URL.revokeObjectURL(image.src);
      };
      image.src = URL.createObjectURL(file);
    });

    // Bundled test images: the real Fashion-MNIST samples shipped in meta.json.
    const samples = (records[0] && records[0].meta.samples) || [];
    const gallery = document.getElementById('image-samples');
    samples.forEach((sample, n) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.title = button.ariaLabel = `Test image ${n + 1}: ${sample.label}`;
      const thumb = document.createElement('canvas');
      thumb.width = thumb.height = SIZE;
      const t = thumb.getContext('2d');
      const image = t.createImageData(SIZE, SIZE);
      sample.data.forEach((v, i) => { image.data.set([v, v, v, 255], 4 * i); });
      t.putImageData(image, 0, 0);
      button.append(thumb);
      button.addEventListener('click', () => showImage(thumb, false));
      gallery.append(button);
    });
    clear();
    if (gallery.firstChild) gallery.firstChild.click();
  };
})(window.WN = window.WN || {});
