// Type declarations of the webnets package (dist/webnets.mjs, and the global `webnets` of dist/webnets.js).
import type * as tfjs from '@tensorflow/tfjs';

/** A backend TF.js can run on, in the order webnets tries them by default. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu' | (string & {});

export interface ProgressEvent {
  /** The file these bytes belong to (model.json, a weight shard, meta.json, ...). */
  file: string;
  fileLoaded: number;
  /** The file's size, when the CDN index or the server says it. */
  fileTotal: number | null;
  /** Bytes of every file of the model so far; never decreases. */
  loaded: number;
  /** Bytes of the whole model, when every file's size is known. */
  total: number | null;
  /** The file came from the Cache API. */
  cached?: boolean;
}

export interface LoadOptions {
  /** The CDN base URL `webnets publish` published to (holds index.json); needed for a model name. */
  base?: string;
  /** A backend or an order of them; default WebGPU -> WebGL -> WASM -> CPU. */
  backend?: BackendName | BackendName[];
  /** Keep the files in the Cache API and read them from there (default true). */
  cache?: boolean;
  /** Check the first prediction against meta.json's golden vectors (default true). */
  verify?: boolean;
  /** Check every file against its SRI hash from index.json (default true; false skips the check). */
  integrity?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** A fetch to use instead of globalThis.fetch (headers, credentials, a service worker's). */
  fetch?: typeof fetch;
}

export interface Meta {
  name?: string;
  labels?: string[];
  inputs?: Array<{name?: string; shape: Array<number | null>; dtype: string}>;
  golden?: {inputs: Array<{shape: number[]; data: Array<number | string>}>; outputs: Array<{shape: number[]; data: number[]}>; bound: number};
  requires?: Array<{file: string; sha256: string; bytes: number}>;
  [key: string]: unknown;
}

export type Inputs = tfjs.Tensor | string | string[] | number[] | unknown[] | tfjs.Tensor[] | Record<string, tfjs.Tensor | unknown[]>;

export interface Classification {
  index: number;
  label: string;
  score: number;
}

export interface LoadedModel {
  model: tfjs.LayersModel;
  meta: Meta | null;
  labels: string[] | null;
  name: string;
  /** The version that was resolved ('1.4.0'), 'unversioned' for a model.json URL, null for files. */
  version: string | null;
  url: string;
  /** The backend the model runs on, and why each one tried before it was skipped. */
  /** kernels (wasm only): 'webnets' when webnets' WebAssembly kernels run, 'stock' when TF.js's own do. */
  backend: {name: BackendName; skipped: Array<{backend: BackendName; reason: string}>; kernels: 'webnets' | 'stock' | null};
  /** hit: read from the Cache API; stored: written to it now; reason: why the cache is not used. */
  cache: {hit: boolean; stored: boolean; reason: string | null};
  golden: {relativeError: number | null; bound: number | null};
  bytes: number;
  loadMs: number;
  /** Runs the model at inference; dispose the returned tensor(s). */
  predict(inputs: Inputs): tfjs.Tensor | tfjs.Tensor[];
  /** The topK labels of each sample's first output. */
  classify(inputs: Inputs, options?: {topK?: number}): Promise<Classification[][]>;
  dispose(): void;
}

export interface CachedModel {
  name: string;
  version: string;
  base: string;
  files: string[];
  bytes: number;
  stored: string;
}

export interface Tokenizer {
  encode(text: string): number[];
  encodeBatch(texts: string[]): number[][];
  tokenize(text: string): string[];
  decode(ids: number[]): string;
  idToToken(id: number): string;
  tokenToId(token: string): number;
  readonly vocabularySize: number;
}

export interface Runner {
  run(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor | tfjs.Tensor[];
  steps: number;
}

export declare class WebnetsLoadError extends Error {
  /** What went wrong, for programs: 'integrity', 'offline', 'no-version', 'unknown-model', 'http', ... */
  code: string;
}

export interface Webnets {
  VERSION: string;
  tf: typeof tfjs;
  /** The class names webnets registered on tf. */
  classes: string[];
  /** Options every load() starts from (set base once for a page's CDN). */
  defaults: LoadOptions;
  /** 'squeezenet@1' (with {base}), a model.json URL, or the model's files. */
  load(source: string | File[] | FileList | Record<string, ArrayBuffer | ArrayBufferView | Blob | string | object>, options?: LoadOptions): Promise<LoadedModel>;
  cache: {list(): Promise<CachedModel[]>; clear(name?: string): Promise<number>};
  predict(model: tfjs.LayersModel, inputs: Inputs): tfjs.Tensor | tfjs.Tensor[];
  tokenizer(spec: object): Tokenizer;
  selectBackend(order?: BackendName | BackendName[]): Promise<{name: BackendName; skipped: Array<{backend: BackendName; reason: string}>; kernels?: 'webnets' | 'stock'}>;
  backendOrder: BackendName[];
  /** Makes `name` the backend if it is there and computes right: null, or why not. */
  tryBackend(name: BackendName): Promise<string | null>;
  /** Applies webnets' repairs of TF.js 4.22's WebGPU kernels to a WebGPU backend (load() and selectBackend() do). */
  repairWebGPU(backend: unknown): boolean;
  /** max |actual - expected| / max |expected|: the measure the exporter's golden bound is in. */
  relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number;
  compileRunner(model: tfjs.LayersModel): Runner | null;
  /** webnets' WebAssembly kernels for TF.js's wasm backend: registered by load() when it picks wasm. */
  kernels: {register(): Promise<boolean>; unregister(): boolean; stats: Record<string, Record<string, number>>};
  WebnetsLoadError: typeof WebnetsLoadError;
}

declare const webnets: Webnets;
export default webnets;
export declare const load: Webnets['load'];
export declare const cache: Webnets['cache'];
export declare const predict: Webnets['predict'];
export declare const tokenizer: Webnets['tokenizer'];
export declare const selectBackend: Webnets['selectBackend'];
export declare const compileRunner: Webnets['compileRunner'];
export declare const defaults: Webnets['defaults'];
export declare const classes: Webnets['classes'];
export declare const VERSION: string;
export declare function createWebnets(tf: typeof tfjs): Webnets;
export {tfjs as tf};
