// What every oracle script shares: one JSON request on stdin, dispatched by its "op" to a function; one
// JSON line on stdout, the result or {"error", "stack"} with exit code 2 (tests/interop/conftest.py reads it).
// Also the JSON-LD contexts bundled in the repository, so the JS verifiers load exactly what Tessera ships.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const CONTEXTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'contexts');

export function loadContexts() {
  const index = JSON.parse(readFileSync(join(CONTEXTS_DIR, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, file] of Object.entries(index)) {
    contexts.set(url, JSON.parse(readFileSync(join(CONTEXTS_DIR, file), 'utf8')));
  }
  return contexts;
}

// the library's OAuth error object, when it gives one, says more than its message
function describe(error) {
  const detail = error?.errorResponse ? ` ${JSON.stringify(error.errorResponse)}` : '';
  return `${error?.name}: ${error?.message}${detail}`;
}

// ops: {name: async request => result}; prepare(request) runs before the op (checks, settings)
export function serve(ops, {prepare = () => {}, message = describe} = {}) {
  const main = async () => {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const op = ops[request?.op];
    if(!op) {
      throw new TypeError(`unknown op ${JSON.stringify(request?.op)}`);
    }
    prepare(request);
    return op(request);
  };
  main().then(result => {
    process.stdout.write(JSON.stringify(result) + '\n');
  }, error => {
    process.stdout.write(JSON.stringify({error: message(error), stack: error?.stack}) + '\n');
    process.exitCode = 2;
  });
}
