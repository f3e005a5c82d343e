// Oracle: W3C VC Data Integrity (eddsa-rdfc-2022, eddsa-jcs-2022) through Digital Bazaar's stack.
//
// Reads one JSON request on stdin, writes one JSON result on stdout. Exit status 0 whenever the
// request was understood (a negative verdict is {"verified": false}); non-zero only when the harness
// itself fails (bad request, library crash), with {"error": ...} on stdout.
//
// Requests:
//   {"op": "verify", "document": {...}, "challenge"?: str, "domain"?: str, "now"?: ISO-8601,
//    "unsignedPresentation"?: bool}
//     -> {"verified": bool, "kind": "credential"|"presentation", "errors": [str, ...]}
//   {"op": "sign", "credential": {...} | "presentation": {...},
//    "keyPair": {"id", "controller", and either "seed" (base64url, 32 bytes) or
//                "publicKeyMultibase" + "secretKeyMultibase"},
//    "cryptosuite"?: "eddsa-rdfc-2022" (default) | "eddsa-jcs-2022", "created"?: ISO-8601,
//    "challenge"?: str, "domain"?: str}
//     -> {"document": {...signed...}} or, when the libraries refuse the document (for instance an
//        undefined term under safe mode), {"document": null, "errors": [str, ...]}
//   {"op": "didkey", "did": "did:key:z6Mk..."} -> {"didDocument": {...}}   (what their resolver builds)
//
// Document loader: offline. JSON-LD contexts come from the repository's bundled copies
// (shared/contexts/index.json, two directories up from this file); did:key URLs are resolved by
// @digitalbazaar/did-method-key with Ed25519 Multikey; any other URL is an error. JSON-LD safe mode
// stays on (the libraries' default): an undefined term makes canonicalization fail.


import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as createJcsSignCryptosuite,
  createVerifyCryptosuite as createJcsVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';
import {loadContexts, serve} from './oracle.mjs';

const CONTEXTS = loadContexts();

const didKeyDriver = didKeyDriverFactory();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

async function documentLoader(url) {
  const context = CONTEXTS.get(url);
  if(context !== undefined) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(context), tag: 'static'};
  }
  if(typeof url === 'string' && url.startsWith('did:key:')) {
    const document = await didKeyDriver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`offline document loader: refusing to load "${url}"`);
}

// --- helpers -------------------------------------------------------------------------------

function b64urlDecode(text) {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

async function keyPairFrom(spec) {
  if(!spec || typeof spec !== 'object') {
    throw new TypeError('"keyPair" must be an object');
  }
  const {id, controller} = spec;
  if(spec.seed) {
    const seed = b64urlDecode(spec.seed);
    if(seed.length !== 32) {
      throw new TypeError('"keyPair.seed" must be 32 bytes, base64url');
    }
    const keyPair = await Ed25519Multikey.generate({seed, id, controller});
    if(spec.publicKeyMultibase && spec.publicKeyMultibase !== keyPair.publicKeyMultibase) {
      throw new Error('"keyPair.publicKeyMultibase" does not match the seed');
    }
    return keyPair;
  }
  return Ed25519Multikey.from({
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey',
    id,
    controller,
    publicKeyMultibase: spec.publicKeyMultibase,
    secretKeyMultibase: spec.secretKeyMultibase
  });
}

function signSuite({keyPair, cryptosuite = 'eddsa-rdfc-2022', created}) {
  const signer = keyPair.signer();
  const date = created ?? undefined;
  if(cryptosuite === 'eddsa-rdfc-2022') {
    return new DataIntegrityProof({signer, date, cryptosuite: eddsaRdfc2022});
  }
  if(cryptosuite === 'eddsa-jcs-2022') {
    return new DataIntegrityProof({signer, date, cryptosuite: createJcsSignCryptosuite()});
  }
  throw new TypeError(`unsupported cryptosuite "${cryptosuite}"`);
}

function verifySuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new DataIntegrityProof({cryptosuite: createJcsVerifyCryptosuite()})
  ];
}

function describe(error, out, seen = new Set()) {
  if(!error || seen.has(error)) {
    return;
  }
  seen.add(error);
  const nested = Array.isArray(error.errors) ? error.errors : [];
  if(nested.length === 0 || error.message) {
    out.push(`${error.name || 'Error'}: ${error.message || String(error)}`);
  }
  for(const e of nested) {
    describe(e, out, seen);
  }
  if(error.cause) {
    describe(error.cause, out, seen);
  }
}

function collectErrors(result) {
  const out = [];
  const seen = new Set();
  describe(result.error, out, seen);
  for(const r of result.results ?? []) {
    describe(r?.error, out, seen);
  }
  if(result.presentationResult) {
    describe(result.presentationResult.error, out, seen);
    for(const r of result.presentationResult.results ?? []) {
      describe(r?.error, out, seen);
    }
  }
  for(const c of result.credentialResults ?? []) {
    describe(c.error, out, seen);
    for(const r of c.results ?? []) {
      describe(r?.error, out, seen);
    }
  }
  if(result.statusResult && !result.statusResult.verified) {
    out.push('status check failed');
  }
  return [...new Set(out)];
}

function isPresentation(document) {
  const types = [].concat(document?.type ?? []);
  return types.includes('VerifiablePresentation');
}

// --- operations ----------------------------------------------------------------------------

async function verify(request) {
  const document = request.document;
  if(!document || typeof document !== 'object') {
    throw new TypeError('"document" must be an object');
  }
  const suite = verifySuites();
  const now = request.now ? new Date(request.now) : undefined;
  let result;
  let kind;
  if(isPresentation(document)) {
    kind = 'presentation';
    result = await vc.verify({
      presentation: document,
      suite,
      documentLoader,
      challenge: request.challenge,
      domain: request.domain,
      unsignedPresentation: request.unsignedPresentation === true,
      now
    });
  } else {
    kind = 'credential';
    result = await vc.verifyCredential({credential: document, suite, documentLoader, now});
  }
  const verified = result.verified === true;
  const errors = collectErrors(result);
  if(!verified && errors.length === 0) {
    errors.push('not verified (no error reported)');
  }
  return {verified, kind, errors: verified ? [] : errors};
}

async function sign(request) {
  const keyPair = await keyPairFrom(request.keyPair);
  const suite = signSuite({keyPair, cryptosuite: request.cryptosuite, created: request.created});
  if(!request.credential && !request.presentation) {
    throw new TypeError('"sign" needs a "credential" or a "presentation"');
  }
  if(request.presentation && !request.challenge) {
    throw new TypeError('signing a presentation needs a "challenge"');
  }
  try {
    return await _sign(request, suite);
  } catch(error) {
    // the libraries refused the document (e.g. safe mode): a verdict, not a harness failure
    const errors = [];
    describe(error, errors);
    return {document: null, errors};
  }
}

async function _sign(request, suite) {
  if(request.credential) {
    const document = await vc.issue({credential: structuredClone(request.credential), suite, documentLoader});
    return {document};
  }
  if(request.presentation) {
    const document = await vc.signPresentation({
      presentation: structuredClone(request.presentation),
      suite,
      documentLoader,
      challenge: request.challenge,
      domain: request.domain
    });
    return {document};
  }
  throw new TypeError('"sign" needs a "credential" or a "presentation"');
}

async function didkey(request) {
  const didDocument = await didKeyDriver.get({did: request.did});
  return {didDocument};
}

const OPS = {verify, sign, didkey};

serve(OPS, {message: error => `${error?.name}: ${error?.message}`});
