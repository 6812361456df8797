// Drives a stock Firefox (Debian's firefox-esr) headless over WebDriver BiDi with
// puppeteer-core: Playwright's own patched Firefox cannot be downloaded here, and
// Playwright 1.65's BiDi path needs emulation.setMediaFeaturesOverride, which
// Firefox 153esr lacks. puppeteer-core is pinned to 24.43.1 (package.json) because
// 25.x needs Node >= 22 and Debian's nodejs is 20. Used by tests/test_firefox.py;
// it only reports, the test judges.
//
// One JSON object on stdin:
//   {executablePath, url, prefs, env, viewport: [w, h], inputs: {name: {shape, data}},
//    waitFor (a function's source, polled before the screenshot), waitTimeoutMs, screenshot}
// One JSON object on stdout:
//   {version, models, backend, backendFailures, status, cards, webgl,
//    outputs: {name: [{shape, data}] | {error}}, panelsRendered, console, fileFetchRefused, timings}
import {launchFirefox, readJob} from './firefox_launch.mjs';

const job = await readJob();

const started = Date.now();
const timings = {};
const mark = (phase) => { timings[phase] = Date.now() - started; };
const browser = await launchFirefox(job);
mark('launched');
try {
  const page = await browser.newPage();
  const [width, height] = job.viewport || [1280, 900];
  await page.setViewport({width, height});
  const console_ = [];
  page.on('console', (m) => console_.push([m.type(), m.text()]));
  page.on('pageerror', (e) => console_.push(['pageerror', String((e && e.message) || e)]));
  await page.goto(job.url, {waitUntil: 'load'});
  mark('loaded');

  const report = {version: await browser.version()};
  report.models = await page.evaluate(() => window.webnets.ready);
  mark('ready');
  Object.assign(report, await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
    const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
    return {
      backend: window.webnets.backend,
      backendFailures: window.webnets.backendFailures,
      status: document.getElementById('backend-status').textContent,
      cards: [...document.querySelectorAll('[data-model]')].map((c) => [c.dataset.model, c.dataset.state, c.dataset.backend]),
      webgl: gl ? `${gl.getParameter(gl.VERSION)} | ${info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)}` : null,
    };
  }));
  report.outputs = {};
  for (const [name, input] of Object.entries(job.inputs || {})) {
    report.outputs[name] = await page.evaluate(async (n, x) => {
      try {
        return await window.webnets.predict(n, x);
      } catch (error) {
        return {error: String((error && error.message) || error)};
      }
    }, name, input);
  }
  mark('predicted');
  if (job.waitFor) {
    report.panelsRendered = await page.waitForFunction(`(${job.waitFor})()`, {timeout: job.waitTimeoutMs || 60000})
      .then(() => true, () => false);
  }
  mark('panels');
  if (job.screenshot) await page.screenshot({path: job.screenshot, fullPage: true});
  mark('screenshot');
  report.console = [...console_];
  // Last, as Firefox logs the refusal as a console error: is this page held to Firefox's
  // file:// rules? fetch() of a file beside it must fail (the strict file-origin policy
  // lets a document fetch only itself).
  report.fileFetchRefused = await page.evaluate(() => fetch('models/index.json').then(() => false, () => true));
  report.timings = timings; // ms since launch, per phase
  process.stdout.write(JSON.stringify(report));
} finally {
  await browser.close();
}
