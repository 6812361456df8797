// A tiny application outside the repository, as a web developer writes one: it installs the packed
// webnets tarball, imports it and the WebGPU and WASM backends, and is bundled by esbuild.
// tests/test_js_package.py drives it in Chromium through window.app.
import webnets, {load, cache, VERSION} from 'webnets';
import '@tensorflow/tfjs-backend-webgpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';

wasm.setWasmPaths(new URL('./', location.href).href);  // the .wasm files are served beside the page
window.app = {webnets, load, cache, VERSION, tf: webnets.tf, wasm};
document.title = `webnets ${VERSION}`;
