// What every oracle script shares: one JSON request on stdin, dispatched by its "op" to a function; one
// JSON line on stdout, the result or {"error", "stack"} with exit code 2 (tests/interop/conftest.py reads it).
// Also the JSON-LD contexts bundled in the repository, so the JS verifiers load exactly what Tessera ships.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import {base58btcDecode} from './base58.mjs';

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

// did:key with an Ed25519 key (z6Mk…) → its DID and public JWK; the fragment must repeat the key (did:key §3.1.1)
export function jwkFromDidKeyUrl(didUrl) {
  const [did, fragment] = didUrl.split('#');
  if(!did.startsWith('did:key:z')) {
    throw new Error(`only did:key is resolved offline, not ${did}`);
  }
  const mb = did.slice('did:key:'.length);
  if(fragment !== undefined && fragment !== mb) {
    throw new Error('the did:key fragment must repeat the key');
  }
  const bytes = base58btcDecode(mb.slice(1));
  if(bytes[0] !== 0xed || bytes[1] !== 0x01 || bytes.length !== 34) {
    throw new Error('only Ed25519 did:key is supported here');
  }
  return {did, jwk: {kty: 'OKP', crv: 'Ed25519', x: bytes.subarray(2).toString('base64url')}};
}

// the JOSE algorithm of a public JWK (the two key types the tests use)
export function algFor(jwk) {
  if(jwk?.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return 'EdDSA';
  }
  if(jwk?.kty === 'EC' && jwk.crv === 'P-256') {
    return 'ES256';
  }
  throw new TypeError(`unsupported JWK kty/crv ${jwk?.kty}/${jwk?.crv}`);
}
