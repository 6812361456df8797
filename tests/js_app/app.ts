// Type-checked against the package's declarations (tsc --noEmit): what an app written in TypeScript uses.
import webnets, {load, type LoadedModel, type ProgressEvent} from 'webnets';

async function main(): Promise<string> {
  const events: ProgressEvent[] = [];
  const loaded: LoadedModel = await load('squeezenet@1', {base: 'https://cdn.example.com/webnets',
    backend: ['webgpu', 'wasm'], onProgress: (e) => events.push(e)});
  const top = await loaded.classify(loaded.model.inputs[0].shape.map(() => 1), {topK: 3});
  const cached = await webnets.cache.list();
  return `${loaded.backend.name} ${top[0][0].label} ${cached.length} ${events.length} ${loaded.version}`;
}
main();
