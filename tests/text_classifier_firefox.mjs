// Types a text into the demo's text classification panel in a stock headless Firefox (Debian's
// firefox-esr, over WebDriver BiDi with puppeteer-core, as tests/firefox_driver.mjs launches it) and
// reports what the page shows. Used by tests/test_text_classifier_demo.py; it only reports, the test judges.
//
// One JSON object on stdin:
//   {executablePath, url, prefs, env, text, ready (a function's source: true once the panel shows the
//    typed text's result), read (a function's source: what the panel shows)}
// One JSON object on stdout: {version, models, shown (read's result), console, timings}
import {launchFirefox, readJob} from './firefox_launch.mjs';

const job = await readJob();

const started = Date.now();
const timings = {};
const mark = (phase) => { timings[phase] = Date.now() - started; };
const browser = await launchFirefox(job);
try {
  const page = await browser.newPage();
  const console_ = [];
  page.on('console', (m) => console_.push([m.type(), m.text()]));
  page.on('pageerror', (e) => console_.push(['pageerror', String((e && e.message) || e)]));
  await page.goto(job.url, {waitUntil: 'load'});
  const report = {version: await browser.version()};
  report.models = await page.evaluate(() => window.webnets.ready);
  mark('ready');
  // Type as a person does: clear the box, key in the text, press the button.
  await page.$eval('#classify-text', (box) => { box.value = ''; });
  await page.type('#classify-text', job.text);
  await page.click('#classify-run');
  await page.waitForFunction(`(${job.ready})()`, {timeout: 60000});
  mark('classified');
  report.shown = await page.evaluate(`(${job.read})()`);
  report.console = console_;
  report.timings = timings;
  process.stdout.write(JSON.stringify(report));
} finally {
  await browser.close();
}
