// Teach: new classes on an image classifier, trained in the browser (Teachable Machine's image
// project on webnets' bases). The API (WN.teach, WN.teachSave, WN.teachLoad, ...) is what the
// panel itself uses, so that other pages can do what the panel does; the README's
// "Teach: training in the browser" documents it.
(function (WN) {
  'use strict';
  WN.provide('teach', ['core', 'backend', 'models', 'images']);

  const STORE = 'webnets-teach-';         // indexeddb://webnets-teach-<name>
  const LABELS = 'webnets-teach-labels:'; // localStorage key of a saved model's labels and preprocessing
  const DEFAULT_SPEC = {shape: [null, 28, 28, 1], preprocessing: {color: 'grayscale', range: [0, 255], background: 'black'}};
  // Layers without weights that may follow a classifier (its softmax, pooling, reshapes).
  const PASSIVE = new Set(['Softmax', 'Activation', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten',
    'Dropout', 'Reshape', 'ReLU']);

  // ---------------------------------------------------------------- bases

  // A base is {model, meta, name}: a zoo record, or what WN.teachLoadBase returns.
  // `source`: a URL of a model.json, or the files chosen from disk (model.json, its shards, and
  // optionally the meta.json the exporter wrote beside it).
  WN.teachLoadBase = async function (source) {
    let meta = null;
    let files = null;
    let modelJson;
    if (typeof source === 'string') {
      const url = source.trim();
      if (!url) throw new Error('Give the URL of a model.json (a TF.js layers model, e.g. models/squeezenet/model.json).');
      const response = await fetch(url).catch((error) => {
        throw new Error(`${url} could not be fetched (${error.message}): pages opened from disk cannot fetch; serve the page with make demo, or choose the files from disk.`);
      });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}.`);
      modelJson = await response.json().catch(() => { throw new Error(`${url} is not JSON: choose a TF.js model.json.`); });
      const metaUrl = new URL('meta.json', new URL(url, location.href)).href;
      meta = await fetch(metaUrl).then((r) => (r.ok ? r.json() : null)).catch(() => null);
      checkLayersModel(modelJson, url);
      for (const {file} of (meta && meta.requires) || []) await loadRuntime(new URL(file, new URL(url, location.href)).href);
      const model = await tf.loadLayersModel(url);
      return {model, meta: meta || {}, name: url};
    }
    files = Array.from(source || []);
    const jsonFile = files.find((f) => f.name === 'model.json') || files.find((f) => f.name.endsWith('.json') && f.name !== 'meta.json' && f.name !== 'labels.json');
    if (!jsonFile) throw new Error('Choose the model.json of a TF.js layers model, together with its weight files (.bin).');
    try {
      modelJson = JSON.parse(await jsonFile.text());
    } catch (error) {
      throw new Error(`${jsonFile.name} is not JSON (${error.message}): choose the model.json of a TF.js layers model.`);
    }
    checkLayersModel(modelJson, jsonFile.name);
    const metaFile = files.find((f) => f.name === 'meta.json');
    if (metaFile) meta = JSON.parse(await metaFile.text());
    const js = files.filter((f) => f.name.endsWith('.js'));
    // Every script meta.json requires (webnets-layers.js, a plugin's file), chosen now or loaded before.
    const missing = ((meta && meta.requires) || []).map((r) => r.file)
      .filter((name) => !js.some((f) => f.name === name) && !loadedScripts.has(name));
    if (missing.length) {
      throw new Error(`This model needs ${missing.join(', ')} (the TF.js layer classes it uses): choose it too, together with model.json and its shards.`);
    }
    // In meta.json's order (webnets-layers.js first), then any other script chosen.
    const order = ((meta && meta.requires) || []).map((r) => r.file);
    const rank = (f) => (order.includes(f.name) ? order.indexOf(f.name) : order.length);
    for (const file of [...js].sort((a, b) => rank(a) - rank(b))) {
      await loadRuntime(URL.createObjectURL(file), file.name);
    }
    const weights = files.filter((f) => f.name.endsWith('.bin'));
    const model = await tf.loadLayersModel(tf.io.browserFiles([jsonFile, ...weights]));
    const labels = files.find((f) => f.name === 'labels.json');
    if (labels && !meta) meta = {labels: JSON.parse(await labels.text()).labels};
    return {model, meta: meta || {}, name: jsonFile.name};
  };

  function checkLayersModel(json, name) {
    if (json && json.format === 'graph-model') {
      throw new Error(`${name} is a TF.js graph model (format 'graph-model'): graph models run inference only and cannot be trained. Choose a layers model (webnets convert without --format graph, or the zoo's models).`);
    }
    if (!json || typeof json !== 'object' || !json.modelTopology || !json.weightsManifest ||
        (json.format && json.format !== 'layers-model')) {
      throw new Error(`${name} is not a TF.js layers model (it needs format 'layers-model', a modelTopology and a weightsManifest): choose the model.json that tf.loadLayersModel reads.`);
    }
  }

  // The scripts a base requires (webnets-layers.js, plugins' JS files), each loaded once; they register
  // their classes on the global tf, so a file name loaded once serves every later base.
  const runtimes = new Map();
  const loadedScripts = new Set();
  function loadRuntime(src, name = src.split('/').pop()) {
    if (!runtimes.has(src)) {
      runtimes.set(src, new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = src;
        script.onload = () => { loadedScripts.add(name); resolve(); };
        script.onerror = () => reject(new Error(`${src} (${name}, a script the model requires) could not be loaded`));
        document.head.appendChild(script);
      }));
    }
    return runtimes.get(src);
  }

  // The input the base expects: meta.json inputs[0] (shape, preprocessing), else the model's input shape.
  function inputSpec(base) {
    const meta = (base.meta && base.meta.inputs && base.meta.inputs[0]) || null;
    const shape = (meta && meta.shape) || base.model.inputs[0].shape;
    const pre = (meta && meta.preprocessing) || (base.meta && base.meta.preprocessing) || DEFAULT_SPEC.preprocessing;
    if (shape.length !== 4) throw new Error(`the base takes inputs of shape [${shape}], not images (batch, height, width, channels).`);
    return {shape, preprocessing: pre};
  }

  // ---------------------------------------------------------------- samples

  // An image-like source (canvas, image, video, ImageData, {width, height, data: gray or RGBA})
  // -> the Float32Array the base takes, preprocessed as in its meta.json. For the zoo's 28x28
  // grayscale white-on-black models this is exactly the image panel's path (js/images.js):
  // grayscale, inverted when the picture has a light background, shrunk with smoothing.
  WN.teachPreprocess = function (source, spec) {
    const [, height, width, channels] = spec.shape;
    const pre = spec.preprocessing || {};
    if (source instanceof tf.Tensor) {
      const t = source.rank === 4 ? source.squeeze([0]) : source;
      if (t.shape[0] !== height || t.shape[1] !== width || t.shape[2] !== channels) {
        throw new Error(`a sample tensor has shape [${source.shape}], the base takes [${height}, ${width}, ${channels}]`);
      }
      const data = t.dataSync();  // a sample given as a tensor (the API's; the panel passes canvases)
      if (t !== source) t.dispose();
      return Float32Array.from(data);
    }
    const canvas = toCanvas(source);
    const [lo, hi] = pre.range || [0, 255];
    const out = new Float32Array(height * width * channels);
    if (channels === 1) {
      // grayscale, white on black, as the zoo's Fashion-MNIST models were trained
      const work = document.createElement('canvas');
      work.width = canvas.width;
      work.height = canvas.height;
      const invert = pre.background === 'black' && WN.lightBackground(canvas);
      WN.drawGrayscale(work.getContext('2d'), canvas, invert);
      const small = document.createElement('canvas');
      small.width = width;
      small.height = height;
      const pixels = WN.grayPixels(work, small.getContext('2d', {willReadFrequently: true}), width, height);
      for (let i = 0; i < pixels.length; i++) out[i] = lo + (hi - lo) * pixels[i] / 255;
      return out;
    }
    const small = document.createElement('canvas');
    small.width = width;
    small.height = height;
    const ctx = small.getContext('2d', {willReadFrequently: true});
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(canvas, 0, 0, width, height);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    for (let i = 0; i < width * height; i++) {
      for (let c = 0; c < channels; c++) out[i * channels + c] = lo + (hi - lo) * rgba[4 * i + Math.min(c, 2)] / 255;
    }
    return out;
  };

  // Any image-like source as a canvas (ImageData and {width, height, data} are painted onto one).
  function toCanvas(source) {
    if (source instanceof HTMLCanvasElement) return source;
    const canvas = document.createElement('canvas');
    if (source instanceof HTMLVideoElement) {
      if (!source.videoWidth) throw new Error('the camera has not delivered a picture yet');
      canvas.width = source.videoWidth;
      canvas.height = source.videoHeight;
      canvas.getContext('2d').drawImage(source, 0, 0);
      return canvas;
    }
    if (source instanceof HTMLImageElement || (window.ImageBitmap && source instanceof ImageBitmap)) {
      canvas.width = source.naturalWidth || source.width;
      canvas.height = source.naturalHeight || source.height;
      canvas.getContext('2d').drawImage(source, 0, 0);
      return canvas;
    }
    if (source && source.width && source.height && source.data) {
      canvas.width = source.width;
      canvas.height = source.height;
      let image = source;
      if (!(source instanceof ImageData)) {
        image = new ImageData(source.width, source.height);
        const gray = source.data.length === source.width * source.height;
        for (let i = 0; i < source.width * source.height; i++) {
          if (gray) image.data.set([source.data[i], source.data[i], source.data[i], 255], 4 * i);
          else image.data.set([source.data[4 * i], source.data[4 * i + 1], source.data[4 * i + 2], 255], 4 * i);
        }
      }
      canvas.getContext('2d').putImageData(image, 0, 0);
      return canvas;
    }
    throw new Error('a sample must be a tensor, a canvas, an image, a video frame, ImageData or {width, height, data}');
  }

  // ---------------------------------------------------------------- training

  // Per class: round(split * n) validation samples, at least 1 once a class has 2, never all of them.
  WN.teachSplit = function (counts, validationSplit = 0.15, seed = 1) {
    const next = WN.seededRandom(seed); // the same samples give the same validation set
    return counts.map((n) => {
      const order = [...Array(n).keys()];
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const nVal = n >= 2 && validationSplit > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * validationSplit))) : 0;
      return {validation: order.slice(0, nVal).sort((a, b) => a - b), train: order.slice(nVal).sort((a, b) => a - b)};
    });
  };

  // The base's classifier: walking back from the output over layers without weights (softmax,
  // pooling), the first layer with weights (SqueezeNet's conv10, the others' Dense). Its input
  // is the base's features.
  function classifierOf(model) {
    for (let i = model.layers.length - 1; i >= 0; i--) {
      const layer = model.layers[i];
      if (layer.weights.length) return layer;
      if (!PASSIVE.has(layer.getClassName())) break;
    }
    throw new Error("the base's last layers are not a classifier (a Dense or 1x1 Conv layer, then softmax): choose an image classifier.");
  }

  // Where the new head attaches. 'pooled': the classifier's own input (a global average of the
  // last feature map, for most CNNs). 'spatial': the feature map before that global pooling, so
  // the head also sees where a pattern is (a digit's strokes), which a Fashion-MNIST base's pooled
  // features average away; measured in tests/test_teach.py.
  function featuresOf(classifier, mode) {
    let tensor = classifier.input;
    if (mode !== 'spatial') return tensor;
    for (let layer = tensor.sourceLayer; layer; layer = tensor.sourceLayer) {
      const name = layer.getClassName();
      if (name === 'Dropout') { tensor = layer.input; continue; }
      if (name === 'GlobalAveragePooling2D' || name === 'GlobalMaxPooling2D') return layer.input;
      break;
    }
    return classifier.input;
  }

  // A private copy of the base: training (unfreeze) must not change the zoo model the image
  // panel uses, and the taught model owns its weights.
  async function cloneModel(model) {
    let artifacts;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    return tf.loadLayersModel(tf.io.fromMemory(artifacts));
  }

  function abortError(signal) {
    return signal && signal.aborted;
  }

  // base: {model, meta} (a zoo record or WN.teachLoadBase's result).
  // options: classes (names), samples (one array per class of tensors or image-like sources),
  // epochs (30), batchSize (256: with fewer samples than that every step sees all of them, and
  // the zero-initialised head makes training repeatable), learningRate (3e-3), augment (true:
  // shifted copies), features ('spatial' or 'pooled'), unfreeze (false, true = the last 3 layers
  // with weights, or a number of them), fineTuneEpochs (epochs / 2), validationSplit (0.15),
  // seed (1), onEpoch(entry), signal (an AbortSignal: stop).
  // -> {model (base + head, one tf.LayersModel), labels, history, validation: {perClass, accuracy},
  //     stopped, epochs, spec}
  WN.teach = async function (base, options = {}) {
    if (!base || !base.model) throw new Error('Choose a base model first: one of the zoo classifiers, a model.json URL, or files from disk.');
    const classes = (options.classes || []).map((c) => String(c).trim());
    const samples = options.samples || [];
    if (classes.length < 2) throw new Error(`Teach needs at least 2 classes (have ${classes.length}): add another class and give it samples.`);
    if (samples.length !== classes.length) throw new Error(`samples has ${samples.length} lists for ${classes.length} classes: give one list of samples per class.`);
    const empty = classes.filter((c, i) => !(samples[i] && samples[i].length));
    if (empty.length) throw new Error(`${empty.map((c) => `"${c || 'unnamed'}"`).join(', ')} ${empty.length > 1 ? 'have' : 'has'} no samples: add at least one sample to every class (two or more give it a validation sample), or remove the class. Nothing was trained.`);
    const unnamed = classes.findIndex((c) => !c);
    if (unnamed >= 0) throw new Error(`Class ${unnamed + 1} has no name: name every class.`);
    const dup = classes.find((c, i) => classes.indexOf(c) !== i);
    if (dup) throw new Error(`Two classes are called "${dup}": give each class its own name.`);
    const epochs = options.epochs || 30;
    const batchSize = options.batchSize || 256;
    const learningRate = options.learningRate || 3e-3;
    const signal = options.signal || null;
    const spec = inputSpec(base);
    const [, height, width, channels] = spec.shape;
    const size = height * width * channels;

    const xs = [];
    const ys = [];
    samples.forEach((list, c) => list.forEach((s) => { xs.push(s instanceof Float32Array && s.length === size ? s : WN.teachPreprocess(s, spec)); ys.push(c); }));
    const split = WN.teachSplit(classes.map((c, i) => samples[i].length), options.validationSplit ?? 0.15, options.seed ?? 1);
    const trainIdx = [];
    const valIdx = [];
    let offset = 0;
    split.forEach((s, c) => {
      trainIdx.push(...s.train.map((i) => offset + i));
      valIdx.push(...s.validation.map((i) => offset + i));
      offset += samples[c].length;
    });

    const started = performance.now();
    const model = await cloneModel(base.model);
    const classifier = classifierOf(model);
    const featureTensor = featuresOf(classifier, options.features || 'spatial');
    const features = tf.model({inputs: model.inputs, outputs: featureTensor});
    const stamp = Date.now().toString(36);
    // Zero-initialised: a linear softmax head on frozen features is a convex problem (logistic
    // regression), so it starts from the same point every time.
    const dense = tf.layers.dense({units: classes.length, activation: 'softmax', kernelInitializer: 'zeros', name: `teach_head_${stamp}`});
    const head = [dense];
    let out = featureTensor;
    if (featureTensor.shape.length > 2) out = tf.layers.flatten({name: `teach_flatten_${stamp}`}).apply(out);
    out = dense.apply(out);
    const full = tf.model({inputs: model.inputs, outputs: out, name: 'webnets_teach'});
    const nFeatures = featureTensor.shape.slice(1).reduce((a, b) => a * b, 1);
    const headInput = tf.input({shape: [nFeatures]});
    const headModel = tf.model({inputs: headInput, outputs: dense.apply(headInput)});

    const batch = (idx) => tf.tidy(() => {
      const flat = new Float32Array(idx.length * size);
      idx.forEach((i, k) => flat.set(xs[i], k * size));
      return tf.tensor4d(flat, [idx.length, height, width, channels]);
    });
    const xTrain = batch(trainIdx);
    const xVal = valIdx.length ? batch(valIdx) : null;
    const yTrain = tf.oneHot(tf.tensor1d(trainIdx.map((i) => ys[i]), 'int32'), classes.length).toFloat();
    const yValLabels = valIdx.map((i) => ys[i]);
    // Frozen base: its features are computed once; the head trains on them alone.
    // The head trains on standardised features (per feature: minus the training mean, over the
    // standard deviation) and the scaling is folded into its kernel afterwards, so the saved model
    // is the plain base + Dense. Raw features are unnormalised sums over thousands of inputs: one
    // Adam step then moved the logits by tens and held-out accuracy swung between 55% and 93%
    // from run to run on the same samples.
    // Augmented: each training sample also shifted up, down, left and right by a 28th of the
    // picture (1 pixel at 28x28, edges mirrored), so that a few samples teach position tolerance.
    const shift = options.augment === false ? 0 : Math.max(1, Math.round(height / 28));
    const [xHead, yHead] = tf.tidy(() => {
      if (!shift) return [xTrain.clone(), yTrain.clone()];
      const padded = tf.mirrorPad(xTrain, [[0, 0], [shift, shift], [shift, shift], [0, 0]], 'symmetric');
      const n = trainIdx.length;
      const moved = [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]].map(([dy, dx]) =>
        padded.slice([0, shift + dy * shift, shift + dx * shift, 0], [n, height, width, channels]));
      return [tf.concat(moved), tf.tile(yTrain, [moved.length, 1])];
    });
    const raw = tf.tidy(() => features.predict(xHead, {batchSize: 32}).reshape([xHead.shape[0], nFeatures]));
    xHead.dispose();
    const {mean: mu, variance} = tf.moments(raw, 0);
    const sigma = tf.tidy(() => variance.sqrt().add(1e-6));
    const standardise = (f) => tf.tidy(() => f.sub(mu).div(sigma));
    const fTrain = standardise(raw);
    const fVal = xVal ? tf.tidy(() => standardise(features.predict(xVal, {batchSize: 32}).reshape([valIdx.length, nFeatures]))) : null;
    raw.dispose();
    variance.dispose();
    // kernel' = kernel / sigma (per input row), bias' = bias - (mu / sigma) . kernel
    const foldStandardisation = () => {
      const [kernel, bias] = dense.getWeights();
      const folded = tf.tidy(() => {
        const k = kernel.div(sigma.reshape([nFeatures, 1]));
        return [k, bias.sub(mu.reshape([1, nFeatures]).matMul(k).reshape([classes.length]))];
      });
      dense.setWeights(folded);
      tf.dispose(folded);
    };

    const history = [];
    let snapshot = null; // the head's weights after the last finished epoch: what a stop keeps
    let stoppedMidEpoch = false;
    const keep = (layers) => layers.flatMap((l) => l.getWeights().map((w) => w.clone()));
    const restore = (layers, weights) => {
      let k = 0;
      for (const l of layers) {
        const n = l.getWeights().length;
        l.setWeights(weights.slice(k, k + n));
        k += n;
      }
    };
    const trainedLayers = () => full.layers.filter((l) => l.trainable && l.weights.length);

    // Read back asynchronously: a synchronous read (dataSync) of a GPU tensor stalls the page, and on
    // WebGPU it broke every later asynchronous read ("A valid external Instance reference no longer exists").
    async function evaluate(predictor, x) {
      const perClass = classes.map(() => ({correct: 0, total: 0}));
      if (!x) return {perClass: perClass.map(() => null), accuracy: null};
      const labels = tf.tidy(() => predictor.predict(x, {batchSize: 32}).argMax(-1));
      const predicted = await labels.data();
      labels.dispose();
      yValLabels.forEach((y, k) => { perClass[y].total++; if (predicted[k] === y) perClass[y].correct++; });
      const total = yValLabels.length;
      const correct = perClass.reduce((a, p) => a + p.correct, 0);
      return {perClass: perClass.map((p) => (p.total ? p.correct / p.total : null)), accuracy: correct / total};
    }

    async function phase(name, predictor, x, y, xv, nEpochs, lr, layersToKeep) {
      predictor.compile({optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy'});
      snapshot = keep(layersToKeep);
      const epochStart = {t: performance.now()};
      await predictor.fit(x, y, {
        epochs: nEpochs, batchSize, shuffle: true, verbose: 0,
        callbacks: {
          onEpochBegin: async () => { epochStart.t = performance.now(); },
          onBatchEnd: async () => {
            if (abortError(signal)) { predictor.stopTraining = true; stoppedMidEpoch = true; }
          },
          onEpochEnd: async (epoch, logs) => {
            if (stoppedMidEpoch) return; // this epoch did not finish: its weights are not kept
            tf.dispose(snapshot);
            snapshot = keep(layersToKeep);
            const val = await evaluate(predictor, xv);
            const entry = {epoch: history.length + 1, phase: name, loss: logs.loss, valAccuracy: val.accuracy,
              perClass: val.perClass, ms: performance.now() - epochStart.t};
            history.push(entry);
            if (options.onEpoch) await options.onEpoch(entry);
            if (abortError(signal)) predictor.stopTraining = true;
            await tf.nextFrame(); // let the page draw the chart and take the Stop click
          },
        },
      });
      if (stoppedMidEpoch) restore(layersToKeep, snapshot);
      tf.dispose(snapshot);
      snapshot = null;
    }

    let stopped = false;
    try {
      if (!abortError(signal)) await phase('head', headModel, fTrain, yHead, fVal, epochs, learningRate, head);
      foldStandardisation();
      stopped = abortError(signal);
      const unfreeze = options.unfreeze === true ? 3 : (options.unfreeze || 0);
      if (unfreeze && !stopped) {
        // Fine-tune end to end: the last `unfreeze` layers with weights before the head train too,
        // with a learning rate 10x smaller so that the features are adjusted, not destroyed.
        const weighted = features.layers.filter((l) => l.weights.length);
        features.layers.forEach((l) => { l.trainable = false; });
        weighted.slice(-unfreeze).forEach((l) => { l.trainable = true; });
        await phase('fine-tune', full, xTrain, yTrain, xVal, options.fineTuneEpochs || Math.max(1, Math.round(epochs / 2)),
          options.fineTuneLearningRate || learningRate / 10, trainedLayers());
        stopped = abortError(signal);
      }
    } finally {
      tf.dispose([xTrain, yTrain, yHead, fTrain, fVal, xVal, mu, sigma].filter(Boolean));
    }
    full.layers.forEach((l) => { l.trainable = true; });
    if (!history.length) {
      full.dispose();
      throw new Error('Training was stopped before its first epoch finished: there is no taught model yet. Nothing was lost; press Train again.');
    }
    const labels = classes.slice();
    const last = history[history.length - 1];
    full.setUserDefinedMetadata({webnets: {labels, input: spec, base: base.name || (base.meta && base.meta.name) || null}});
    return {
      model: full, labels, history, spec, stopped, epochs: history.length, ms: performance.now() - started,
      base: base.name || (base.meta && base.meta.name) || null,
      validation: {perClass: last.perClass, accuracy: last.valAccuracy, samples: valIdx.length},
    };
  };

  // ---------------------------------------------------------------- predicting

  // sources: one image-like source or an array of them -> [{label, probabilities}] (one per source).
  WN.teachPredict = async function (result, sources) {
    const list = Array.isArray(sources) ? sources : [sources];
    const [, height, width, channels] = result.spec.shape;
    const size = height * width * channels;
    const flat = new Float32Array(list.length * size);
    list.forEach((s, k) => flat.set(s instanceof Float32Array && s.length === size ? s : WN.teachPreprocess(s, result.spec), k * size));
    const x = tf.tensor4d(flat, [list.length, height, width, channels]);
    const y = result.model.predict(x, {batchSize: 32});
    const data = await y.data();
    tf.dispose([x, y]);
    const n = result.labels.length;
    return list.map((s, k) => {
      const probabilities = Array.from(data.slice(k * n, (k + 1) * n));
      const best = probabilities.indexOf(Math.max(...probabilities));
      return {label: result.labels[best], index: best, probabilities};
    });
  };

  // ---------------------------------------------------------------- saving

  function storageProblem(error) {
    const reason = String((error && (error.message || error.name)) || error);
    const quota = /quota|QuotaExceeded|full|space/i.test(reason) || (error && error.name === 'QuotaExceededError');
    const where = location.protocol === 'file:'
      ? ' Browsers may keep no storage for pages opened from disk (file://): serve the page (make demo) to save in it.' : '';
    return new Error(`${quota ? "The browser's storage is full" : "The browser refused to store the model (IndexedDB is unavailable or blocked)"}: ${reason}.${where} Your taught model is still here in memory: download it instead, or free some space and save again.`);
  }

  function indexedDBUsable() {
    try {
      return typeof indexedDB !== 'undefined' && indexedDB !== null && typeof indexedDB.open === 'function';
    } catch (error) {
      return false; // some browsers throw on mere access when storage is blocked
    }
  }

  WN.teachSave = async function (result, name) {
    const key = String(name || '').trim();
    if (!result || !result.model) throw new Error('There is no taught model to save yet: train one first.');
    if (!/^[\w.-]{1,64}$/.test(key)) throw new Error('Name the model with letters, digits, - _ or . (at most 64 characters).');
    if (!indexedDBUsable()) throw storageProblem(new Error('indexedDB is not available in this page'));
    const info = {labels: result.labels, spec: result.spec, base: result.base, savedAt: new Date().toISOString(),
      validation: result.validation, epochs: result.epochs};
    // Written under a temporary name first and moved over the old one only once the browser has
    // kept it: a failed save leaves a model saved earlier under `name` as it was. And checked after
    // writing: TF.js's IndexedDB handler resolves when its put succeeds, before the transaction
    // commits, so a write the browser drops at commit (storage full) would otherwise say "saved".
    const url = `indexeddb://${STORE}${key}`;
    const temp = `indexeddb://${STORE}${key}.saving`;
    // Read back, weights included: TF.js lists a model as soon as its info entry is in, even when
    // its weights never were.
    let bytes = -1;
    const kept = async (where) => {
      try {
        const artifacts = await tf.io.getLoadHandlers(where)[0].load();
        return [].concat(artifacts.weightData).reduce((n, b) => n + b.byteLength, 0) === bytes;
      } catch (error) {
        return false;
      }
    };
    let replacing = false;
    try {
      bytes = (await result.model.save(temp)).modelArtifactsInfo.weightDataBytes;
      if (!(await kept(temp))) throw new Error('the browser accepted the model but did not keep it: its storage is full or the write was aborted');
      if ((await tf.io.listModels())[url]) {
        replacing = true;
        await tf.io.removeModel(url);
      }
      await tf.io.moveModel(temp, url);
      if (!(await kept(url))) throw new Error('the browser did not keep the model');
      localStorage.setItem(LABELS + key, JSON.stringify(info));
    } catch (error) {
      // nothing half-written stays behind; once the old copy is gone, the new one stays where it is
      if (!replacing) await tf.io.removeModel(temp).catch(() => {});
      else {
        try { localStorage.setItem(`${LABELS}${key}.saving`, JSON.stringify(info)); } catch (e) { /* listed without labels */ }
        error = new Error(`${error.message || error} (the new model is kept as "${key}.saving")`);
      }
      throw storageProblem(error);
    }
    return {name: key, url, ...info};
  };

  WN.teachList = async function () {
    if (!indexedDBUsable()) throw storageProblem(new Error('indexedDB is not available in this page'));
    let all;
    try {
      all = await tf.io.listModels();
    } catch (error) {
      throw storageProblem(error);
    }
    return Object.entries(all).filter(([url]) => url.startsWith(`indexeddb://${STORE}`)).map(([url, info]) => {
      const name = url.slice(`indexeddb://${STORE}`.length);
      let extra = {};
      try { extra = JSON.parse(localStorage.getItem(LABELS + name) || '{}'); } catch (e) { extra = {}; }
      return {name, url, dateSaved: info.dateSaved, bytes: info.weightDataBytes, ...extra};
    }).sort((a, b) => a.name.localeCompare(b.name));
  };

  // -> a result like WN.teach's ({model, labels, spec, ...}), ready for WN.teachPredict.
  WN.teachLoad = async function (name) {
    if (!indexedDBUsable()) throw storageProblem(new Error('indexedDB is not available in this page'));
    let model;
    try {
      model = await tf.loadLayersModel(`indexeddb://${STORE}${name}`);
    } catch (error) {
      throw new Error(`The saved model "${name}" could not be read from IndexedDB: ${error.message}`);
    }
    const stored = (model.getUserDefinedMetadata() || {}).webnets || {};
    let extra = {};
    try { extra = JSON.parse(localStorage.getItem(LABELS + name) || '{}'); } catch (e) { extra = {}; }
    const labels = extra.labels || stored.labels;
    if (!labels) throw new Error(`The saved model "${name}" has no labels stored with it.`);
    return {model, labels, spec: extra.spec || stored.input || DEFAULT_SPEC, base: extra.base || stored.base,
      history: [], validation: extra.validation || null, name};
  };

  WN.teachRemove = async function (name) {
    await tf.io.removeModel(`indexeddb://${STORE}${name}`);
    try { localStorage.removeItem(LABELS + name); } catch (e) { /* labels were never stored */ }
  };

  // model.json + model.weights.bin (TF.js's downloads:// handler) and labels.json.
  WN.teachDownload = async function (result, name = 'model') {
    await result.model.save(`downloads://${name}`);
    const blob = new Blob([JSON.stringify({labels: result.labels, input: result.spec, base: result.base}, null, 1)],
      {type: 'application/json'});
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'labels.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };

  // ---------------------------------------------------------------- the panel

  WN.initTeach = function (records) {
    const $ = (id) => document.getElementById(id);
    const status = $('teach-status');
    const baseStatus = $('teach-base-status');
    const state = {
      base: null, classes: [], result: null, training: false, controller: null, status: '', error: null,
      camera: null, saved: [],
    };
    const hook = {
      state: 'idle',
      get status() { return state.status; },
      get result() { return state.result && summary(state.result); },
      get classes() { return state.classes.map((c) => ({name: c.name, samples: c.samples.length})); },
      get base() { return state.base && state.base.name; },
      // Test and app entry points: the same paths as the panel's controls.
      addSamples: (classIndex, sources) => addSamples(classIndex, sources.map((s) => toCanvas(s)), 'test'),
      predict: async (sources) => WN.teachPredict(state.result, sources.map((s) => toCanvas(s))),
      api: WN,
      live: () => state.result,
    };
    if (window.webnets) window.webnets.teach = hook;

    function summary(result) {
      return {labels: result.labels, history: result.history, validation: result.validation, stopped: !!result.stopped,
        epochs: result.epochs, base: result.base, name: result.name || null};
    }
    function say(text, kind = 'info') {
      state.status = text;
      status.textContent = text;
      status.dataset.kind = kind;
    }
    function setState(value) {
      hook.state = value;
      $('panel-teach').dataset.state = value;
    }

    // -- base
    const select = $('teach-base');
    for (const record of records) {
      const option = document.createElement('option');
      option.value = `zoo:${record.name}`;
      option.textContent = `${record.meta.display_name || record.name} (zoo)`;
      select.append(option);
    }
    function setBase(base, text) {
      state.base = base;
      baseStatus.textContent = text;
      baseStatus.dataset.kind = 'ok';
    }
    function baseFailed(error) {
      state.base = null;
      baseStatus.textContent = String(error.message || error);
      baseStatus.dataset.kind = 'error';
    }
    select.addEventListener('change', () => {
      const value = select.value;
      $('teach-base-url-row').hidden = value !== 'url';
      $('teach-base-files-row').hidden = value !== 'files';
      if (value.startsWith('zoo:')) {
        const record = records.find((r) => `zoo:${r.name}` === value);
        setBase({model: record.model, meta: record.meta, name: record.name},
          `Base: ${record.meta.display_name || record.name}, ${record.meta.parameter_count.toLocaleString()} parameters, input ${inputSpec(record).shape.slice(1).join('×')}.`);
      } else {
        state.base = null;
        baseStatus.textContent = value === 'url' ? 'Give the URL of a model.json, then Load.' : value === 'files' ? 'Choose model.json and its .bin files (and meta.json, webnets-layers.js where it has them).' : 'No base chosen.';
        baseStatus.dataset.kind = 'info';
      }
    });
    $('teach-base-load').addEventListener('click', async () => {
      baseStatus.textContent = 'Loading…';
      try {
        const base = await WN.teachLoadBase($('teach-base-url').value);
        classifierOf(base.model);
        setBase(base, `Base: ${base.name}, input ${inputSpec(base).shape.slice(1).join('×')}.`);
      } catch (error) { baseFailed(error); }
    });
    $('teach-base-files').addEventListener('change', async (e) => {
      baseStatus.textContent = 'Loading…';
      try {
        const base = await WN.teachLoadBase(e.target.files);
        classifierOf(base.model);
        setBase(base, `Base: ${base.name} from disk, input ${inputSpec(base).shape.slice(1).join('×')}.`);
      } catch (error) { baseFailed(error); }
    });

    // -- classes and samples
    const list = $('teach-classes');
    function addClass(name) {
      const c = {name: name || `Class ${state.classes.length + 1}`, samples: []};
      state.classes.push(c);
      render();
      return c;
    }
    function render() {
      list.replaceChildren(...state.classes.map((c, i) => {
        const row = document.createElement('li');
        row.className = 'teach-class';
        row.dataset.index = i;
        const name = document.createElement('input');
        name.type = 'text';
        name.value = c.name;
        name.className = 'teach-class-name';
        name.setAttribute('aria-label', `Name of class ${i + 1}`);
        name.addEventListener('change', () => { c.name = name.value.trim(); });
        const count = document.createElement('span');
        count.className = 'teach-count';
        count.textContent = `${c.samples.length} sample${c.samples.length === 1 ? '' : 's'}`;
        const buttons = document.createElement('div');
        buttons.className = 'buttons';
        const button = (text, cls, onClick) => {
          const b = document.createElement('button');
          b.type = 'button';
          b.textContent = text;
          b.className = cls;
          b.addEventListener('click', onClick);
          return b;
        };
        const upload = document.createElement('label');
        upload.className = 'file';
        upload.textContent = 'Upload';
        const input = document.createElement('input');
        input.type = 'file';
        input.accept = 'image/*';
        input.multiple = true;
        input.className = 'teach-upload';
        input.setAttribute('aria-label', `Upload images for class ${i + 1}`);
        input.addEventListener('change', async () => {
          const images = await Promise.all(Array.from(input.files).map(readImage));
          input.value = '';
          addSamples(i, images.filter(Boolean), 'upload');
        });
        upload.append(input);
        buttons.append(
          button('Add drawing', 'teach-add-drawing', () => addSamples(i, [snapshotCanvas($('teach-canvas'))], 'drawing')),
          upload,
          button('Add webcam frame', 'teach-add-webcam', () => addWebcam(i)),
          button('Clear samples', 'teach-clear-samples', () => { c.samples = []; render(); }),
          button('Remove class', 'teach-remove-class', () => { state.classes.splice(i, 1); render(); }));
        const thumbs = document.createElement('div');
        thumbs.className = 'teach-thumbs';
        for (const s of c.samples.slice(-12)) thumbs.append(s.thumb);
        row.append(name, count, buttons, thumbs);
        return row;
      }));
    }
    function snapshotCanvas(canvas) {
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      copy.getContext('2d').drawImage(canvas, 0, 0);
      return copy;
    }
    function readImage(file) {
      return new Promise((resolve) => {
        const image = new Image();
        image.onload = () => { resolve(image); URL.revokeObjectURL(image.src); };
        image.onerror = () => { say(`${file.name} is not an image the browser can read; it was skipped.`, 'error'); resolve(null); };
        image.src = URL.createObjectURL(file);
      });
    }
    // Samples are kept as canvases and preprocessed when training starts, for the base chosen then.
    function addSamples(i, sources, how) {
      const c = state.classes[i];
      if (!c) throw new Error(`there is no class ${i + 1}`);
      for (const source of sources) {
        const canvas = toCanvas(source) === source ? snapshotCanvas(source) : toCanvas(source);
        const thumb = document.createElement('canvas');
        thumb.width = thumb.height = 28;
        thumb.className = 'teach-thumb';
        thumb.getContext('2d').drawImage(canvas, 0, 0, 28, 28);
        c.samples.push({canvas, thumb, how});
      }
      render();
      say(`${c.name}: ${c.samples.length} samples (added ${sources.length} by ${how}).`);
      return c.samples.length;
    }

    // -- drawing
    const canvas = $('teach-canvas');
    const ctx = canvas.getContext('2d');
    const clear = () => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); };
    let drawing = false;
    const point = (e) => {
      const box = canvas.getBoundingClientRect();
      return [(e.clientX - box.left) * canvas.width / box.width, (e.clientY - box.top) * canvas.height / box.height];
    };
    const dot = (x, y) => { ctx.fillStyle = '#fff'; ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.fill(); };
    canvas.addEventListener('pointerdown', (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); dot(...point(e)); });
    canvas.addEventListener('pointermove', (e) => { if (drawing) dot(...point(e)); });
    canvas.addEventListener('pointerup', () => { drawing = false; });
    $('teach-canvas-clear').addEventListener('click', clear);
    clear();

    // -- webcam
    const video = $('teach-video');
    async function startCamera() {
      if (state.camera) return state.camera;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        throw new Error('This browser gives this page no camera (getUserMedia is unavailable; pages need http://localhost, https or file:// in Chromium): draw or upload samples instead.');
      }
      try {
        state.camera = await navigator.mediaDevices.getUserMedia({video: {width: 320, height: 240}, audio: false});
      } catch (error) {
        const refused = error && (error.name === 'NotAllowedError' || error.name === 'SecurityError');
        throw new Error(refused ? `The camera was refused (${error.name}): allow it in the browser's site settings, or draw or upload samples instead.`
          : `No camera could be opened (${error.name || error.message}): draw or upload samples instead.`);
      }
      video.srcObject = state.camera;
      video.hidden = false;
      await video.play();
      if (!video.videoWidth) await new Promise((resolve) => video.addEventListener('loadeddata', resolve, {once: true}));
      $('teach-camera').textContent = 'Stop camera';
      return state.camera;
    }
    function stopCamera() {
      if (state.camera) state.camera.getTracks().forEach((t) => t.stop());
      state.camera = null;
      video.srcObject = null;
      video.hidden = true;
      $('teach-camera').textContent = 'Start camera';
    }
    async function addWebcam(i) {
      try {
        await startCamera();
        addSamples(i, [toCanvas(video)], 'webcam');
      } catch (error) { say(error.message, 'error'); }
    }
    $('teach-camera').addEventListener('click', async () => {
      if (state.camera) { stopCamera(); return; }
      try { await startCamera(); say('Camera on: "Add webcam frame" adds its current picture to a class.'); } catch (error) { say(error.message, 'error'); }
    });
    hook.addWebcamSample = addWebcam;

    // -- training
    const chart = $('teach-chart');
    function draw(history) {
      const g = chart.getContext('2d');
      const w = chart.width;
      const h = chart.height;
      const pad = 28;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, w, h);
      g.strokeStyle = '#d9dcde';
      g.strokeRect(pad, 8, w - pad - 8, h - pad - 8);
      g.fillStyle = '#5c6166';
      g.font = '11px system-ui, sans-serif';
      g.fillText('1', 4, 14);
      g.fillText('0', 4, h - pad);
      g.fillText('epoch', w - 40, h - 6);
      if (!history.length) return;
      const n = Math.max(2, history.length);
      const x = (i) => pad + (w - pad - 8) * i / (n - 1);
      const y = (v) => 8 + (h - pad - 16) * (1 - v);
      const maxLoss = Math.max(...history.map((e) => e.loss), 1e-6);
      const line = (values, color, dash) => {
        g.strokeStyle = color;
        g.setLineDash(dash || []);
        g.lineWidth = 2;
        g.beginPath();
        values.forEach((v, i) => { if (v === null || v === undefined) return; if (i === 0) g.moveTo(x(i), y(v)); else g.lineTo(x(i), y(v)); });
        g.stroke();
        g.setLineDash([]);
      };
      const colors = ['#1f6feb', '#1a7f37', '#bf8700', '#8250df', '#cf222e', '#0a7ea4', '#d1242f', '#6e7781'];
      line(history.map((e) => e.loss / maxLoss), '#1d1f21', [5, 3]);
      state.classes.forEach((c, k) => line(history.map((e) => e.perClass[k]), colors[k % colors.length]));
      let lx = pad + 4;
      g.fillStyle = '#1d1f21';
      g.fillText(`loss (max ${maxLoss.toFixed(2)})`, lx, h - 6);
      lx += 100;
      (state.result ? state.result.labels : state.classes.map((c) => c.name)).forEach((name, k) => {
        g.fillStyle = colors[k % colors.length];
        g.fillText(name.slice(0, 10), lx, h - 6);
        lx += 60;
      });
    }
    draw([]);

    // TF.js 4.22's WebGPU backend fails part-way through training here (a GPU buffer it cannot create:
    // docs/webgpu.md), where WebGL and WASM train: say so and how to switch, not just the raw error.
    function trainingProblem(error) {
      const reason = String((error && error.message) || error);
      if (tf.getBackend() !== 'webgpu') return reason;
      return `Training failed on WebGPU: TF.js's WebGPU backend could not run a training step (${reason}). `
        + 'It trains on WebGL and WebAssembly: reload the page with ?backend=webgl (or ?backend=wasm) to teach.';
    }

    async function train() {
      if (state.training) return;
      const options = {
        epochs: Number($('teach-epochs').value) || 20,
        learningRate: Number($('teach-lr').value) || 1e-3,
        batchSize: Number($('teach-batch').value) || 256,
        validationSplit: Number($('teach-val').value) / 100,
        unfreeze: $('teach-unfreeze').checked,
        augment: $('teach-augment').checked,
      };
      const classes = state.classes.map((c) => c.name);
      const samples = state.classes.map((c) => c.samples.map((s) => s.canvas));
      const live = [];
      state.training = true;
      state.controller = new AbortController();
      setState('training');
      $('teach-train').disabled = true;
      $('teach-stop').disabled = false;
      say('Training…');
      try {
        const result = await WN.teach(state.base, {...options, classes, samples, signal: state.controller.signal,
          onEpoch: (e) => {
            live.push(e);
            draw(live);
            say(`Epoch ${e.epoch} (${e.phase}): loss ${e.loss.toFixed(3)}, validation accuracy ${e.valAccuracy === null ? '–' : `${(100 * e.valAccuracy).toFixed(0)}%`}, ${e.ms.toFixed(0)} ms.`);
          }});
        if (state.result && state.result.model !== result.model && !state.result.name) state.result.model.dispose();
        state.result = result;
        draw(result.history);
        const acc = result.validation.accuracy === null ? 'no validation samples' : `validation accuracy ${(100 * result.validation.accuracy).toFixed(0)}% on ${result.validation.samples} held-out samples`;
        say(result.stopped
          ? `Stopped: kept the model from epoch ${result.epochs}, the last one that finished (${acc}). It predicts and can be saved.`
          : `Trained ${result.epochs} epochs in ${(result.ms / 1000).toFixed(1)} s: ${acc}.`, result.stopped ? 'warn' : 'ok');
        setState(result.stopped ? 'stopped' : 'trained');
        showValidation(result);
      } catch (error) {
        say(trainingProblem(error), 'error');
        setState(state.result ? 'trained' : 'error');
      } finally {
        state.training = false;
        $('teach-train').disabled = false;
        $('teach-stop').disabled = true;
      }
    }
    function showValidation(result) {
      const rows = result.labels.map((label, k) => {
        const v = result.validation.perClass[k];
        return `<tr><td>${escape(label)}</td><td>${v === null ? '–' : `${(100 * v).toFixed(0)}%`}</td></tr>`;
      });
      $('teach-validation').innerHTML = `<caption>Validation accuracy per class</caption>${rows.join('')}`;
    }
    function escape(text) {
      return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
    }
    $('teach-add-class').addEventListener('click', () => addClass());
    $('teach-train').addEventListener('click', train);
    $('teach-stop').addEventListener('click', () => { if (state.controller) state.controller.abort(); say('Stopping after this batch…'); });
    hook.train = train;
    hook.stop = () => state.controller && state.controller.abort();

    // -- predicting
    async function predictFrom(source) {
      if (!state.result) { say('Train a model (or load a saved one) before predicting.', 'error'); return null; }
      const [p] = await WN.teachPredict(state.result, toCanvas(source) === source ? snapshotCanvas(source) : toCanvas(source));
      const items = state.result.labels.map((label, k) => [label, p.probabilities[k]]).sort((a, b) => b[1] - a[1]);
      const listEl = document.createElement('ol');
      listEl.className = 'top5';
      for (const [label, prob] of items) {
        const li = document.createElement('li');
        li.innerHTML = `<span>${escape(label)}</span><span class="bar" style="width:${Math.max(1, prob * 100).toFixed(1)}%"></span><span class="p">${(prob * 100).toFixed(1)}%</span>`;
        listEl.append(li);
      }
      $('teach-prediction').replaceChildren(listEl);
      $('teach-prediction').dataset.label = p.label;
      return p;
    }
    hook.predictDrawing = () => predictFrom(canvas);
    $('teach-predict-drawing').addEventListener('click', () => predictFrom(canvas));
    $('teach-predict-webcam').addEventListener('click', async () => {
      try { await startCamera(); await predictFrom(video); } catch (error) { say(error.message, 'error'); }
    });
    $('teach-predict-upload').addEventListener('change', async (e) => {
      const image = e.target.files[0] && await readImage(e.target.files[0]);
      e.target.value = '';
      if (image) await predictFrom(image);
    });

    // -- saving, loading, downloading
    async function refreshSaved() {
      const listEl = $('teach-saved');
      try {
        state.saved = await WN.teachList();
      } catch (error) {
        listEl.replaceChildren();
        $('teach-storage').textContent = error.message;
        return;
      }
      listEl.replaceChildren(...state.saved.map((s) => {
        const li = document.createElement('li');
        li.dataset.name = s.name;
        const label = document.createElement('span');
        label.textContent = `${s.name}: ${(s.labels || []).join(', ')}${s.base ? ` (on ${s.base})` : ''}`;
        const load = document.createElement('button');
        load.type = 'button';
        load.textContent = 'Load';
        load.className = 'teach-load';
        load.addEventListener('click', () => loadSaved(s.name));
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = 'Delete';
        remove.addEventListener('click', async () => { await WN.teachRemove(s.name); refreshSaved(); });
        li.append(label, load, remove);
        return li;
      }));
      if (!state.saved.length) $('teach-storage').textContent = 'No saved models in this browser yet.';
      else $('teach-storage').textContent = '';
    }
    async function loadSaved(name) {
      try {
        const result = await WN.teachLoad(name);
        state.result = result;
        state.classes = result.labels.map((label) => ({name: label, samples: []}));
        render();
        say(`Loaded "${name}" from this browser's storage: ${result.labels.join(', ')}.`, 'ok');
        setState('loaded');
        return summary(result);
      } catch (error) {
        say(error.message, 'error');
        throw error;
      }
    }
    async function save() {
      const name = $('teach-name').value;
      try {
        const saved = await WN.teachSave(state.result, name);
        say(`Saved as "${saved.name}" in this browser (${saved.url}); it stays after a reload.`, 'ok');
        await refreshSaved();
        return saved;
      } catch (error) {
        say(error.message, 'error');
        return null;
      }
    }
    $('teach-save').addEventListener('click', save);
    $('teach-download').addEventListener('click', async () => {
      if (!state.result) { say('There is no taught model to download yet: train one first.', 'error'); return; }
      await WN.teachDownload(state.result, 'model');
      say('Downloaded model.json, model.weights.bin and labels.json: `webnets import DIR out.keras` brings it into Keras 3.', 'ok');
    });
    hook.save = save;
    hook.load = loadSaved;
    hook.refreshSaved = refreshSaved;
    hook.addClass = (name) => { addClass(name); return state.classes.length - 1; };
    hook.removeClass = (i) => { state.classes.splice(i, 1); render(); };
    hook.selectBase = (value) => { select.value = value; select.dispatchEvent(new Event('change')); return state.base && state.base.name; };

    addClass('Class 1');
    addClass('Class 2');
    if (records.length) {
      // The zoo classifier with the best validation accuracy on new classes (measured in tests/test_teach.py).
      const preferred = records.find((r) => r.name === 'resnet') || records[0];
      select.value = `zoo:${preferred.name}`;
      select.dispatchEvent(new Event('change'));
    }
    setState('idle');
    refreshSaved();
  };
})(window.WN = window.WN || {});
