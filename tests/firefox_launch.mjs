// What the Firefox drivers share (tests/firefox_driver.mjs, tests/text_classifier_firefox.mjs): the job
// JSON from stdin, and a stock Firefox (Debian's firefox-esr) launched headless over WebDriver BiDi with
// puppeteer-core (see firefox_driver.mjs for why not Playwright's Firefox).
import puppeteer from 'puppeteer-core';

export async function readJob() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function launchFirefox(job) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: job.executablePath,
    headless: true,
    extraPrefsFirefox: job.prefs || {},
    env: {...process.env, ...(job.env || {})},
  });
}
