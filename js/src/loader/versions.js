// 'squeezenet@1' -> {name: 'squeezenet', range: '1'}, and the highest published version a range allows.
// Ranges are npm's (semver 7: '1', '1.4', '1.4.0', '^1.2.0', '~1.4', '>=1.2 <2', '*'), so a web developer
// pins a model the way they pin a package; a pre-release is chosen only when the range names one,
// as npm does, and matching `latest` in the CDN index (exporter/publish/cdn_index.py).
import maxSatisfying from 'semver/ranges/max-satisfying.js';
import validRange from 'semver/ranges/valid.js';
import {fail} from './errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

// A model name, optionally @range. Anything with a '/' or ending in .json is a URL, not a name.
export function isModelName(source) {
  return typeof source === 'string' && !source.includes('/') && !source.endsWith('.json')
    && NAME.test(source.split('@')[0]);
}

export function parseName(source) {
  const at = source.indexOf('@');
  const name = at < 0 ? source : source.slice(0, at);
  const range = at < 0 ? '*' : source.slice(at + 1).trim() || '*';
  if (!validRange(range)) {
    fail('bad-range', `webnets.load('${source}'): '${range}' is not a version range. Use a version such as `
      + `'${name}@1' (the highest 1.x.y), '${name}@1.4' or '${name}@1.4.0' (exactly that one).`);
  }
  return {name, range};
}

// The highest version of `versions` in `range`, or null.
export function highest(versions, range) {
  return maxSatisfying(versions, range);
}
