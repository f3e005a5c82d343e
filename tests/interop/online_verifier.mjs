// Oracle: an independent relying party that checks a credential the way one on the network would —
// the issuer's keys from what the issuer publishes, the credential's status from the status list the
// issuer serves, both fetched over HTTP when asked — using @sd-jwt/sd-jwt-vc and @sd-jwt/core 0.19.0
// and @digitalbazaar/vc 7.3.0 (eddsa-rdfc-2022 / eddsa-jcs-2022 Data Integrity).
//
// Reads one JSON request on stdin, writes one JSON result on stdout (exit 0 whenever the request was
// understood, so a negative verdict is {"verified": false, "errors": [...]}; non-zero with
// {"error": ...} when the harness itself failed).
//
// Every request names "issuerUrl": the only origin the script fetches from (the issuer under test on
// 127.0.0.1); any other URL is refused, so the oracle never reaches the internet.
//
//   {"op": "sdJwtVc", "sdJwt": str, "issuerUrl": str, "nonce"?: str, "audience"?: str, "now"?: seconds}
//     SD-JWT VC (dc+sd-jwt) with SDJwtVcInstance.verify. The issuer key: from the kid when iss is a
//     did:key (an issuer on plain http names itself so), otherwise JWT VC Issuer Metadata
//     (SD-JWT VC §5) fetched from <iss origin>/.well-known/jwt-vc-issuer<iss path>, its "issuer" equal
//     to "iss", the JWK chosen by the header "kid". The status: the library's own statusListFetcher
//     (Accept and Content-Type application/statuslist+jwt) fetches the Token Status List at
//     status.status_list.uri, verifies its signature with the same issuer keys, reads the entry at
//     "idx", and its default statusValidator refuses any value but 0 (VALID). A nonce or audience
//     makes the KB-JWT required (its signature with cnf.jwk, nonce and sd_hash by the library; aud
//     checked here).
//     -> {"verified", "payload", "header", "kb", "issuerMetadataUrl",
//         "status": {"uri", "idx", "value", "listHeader", "listPayload"} | null, "errors"}
//   {"op": "vcSdJwt", "sdJwt": str, "issuerUrl": str, "nonce"?, "audience"?, "now"?: seconds}
//     A VCDM 2.0 credential secured with SD-JWT (W3C VC-JOSE-COSE §3.2: typ vc+sd-jwt, cty vc) with
//     @sd-jwt/core's SDJwtInstance.verify; the issuer key from the header "kid", a did:key URL resolved
//     offline, whose DID must be the credential's "issuer"; then its BitstringStatusListEntry entries
//     as for "dataIntegrity".
//     -> {"verified", "payload", "header", "kb", "statuses": [...], "errors"}
//   {"op": "dataIntegrity", "credential": {...}, "issuerUrl": str, "now"?: ISO-8601}
//     vc.verifyCredential with a checkStatus for BitstringStatusListEntry (W3C Bitstring Status List
//     v1.0 §3.2, which @digitalbazaar/vc leaves to a plug-in not installed here, so it is written out
//     below): fetch statusListCredential, verify it with vc.verifyCredential, require its type, issuer
//     (the credential's), statusPurpose (the entry's) and id (the URL fetched), then decode encodedList
//     (multibase base64url, GZIP, at least 16 KiB) and read the bit at statusListIndex, first bit the
//     most significant of the first byte. Any bit set fails the check.
//     -> {"verified", "statuses": [{"purpose", "index", "url", "value", "listVerified", "listErrors"}],
//         "errors"}

import crypto from 'node:crypto';
import {gunzipSync} from 'node:zlib';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {createVerifyCryptosuite as createJcsVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';
import {SDJwtInstance} from '@sd-jwt/core';
import {ES256, digest} from '@sd-jwt/crypto-nodejs';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {algFor, jwkFromDidKeyUrl, loadContexts, serve} from './oracle.mjs';

const MIN_BITSTRING_BITS = 131072; // Bitstring Status List v1.0 §2.1: at least 16 KiB

// --- network: the issuer's origin only ----------------------------------------------------------

let ALLOWED_ORIGIN = null;

function assertAllowed(url) {
  const origin = new URL(url).origin;
  if(ALLOWED_ORIGIN === null || origin !== ALLOWED_ORIGIN) {
    throw new Error(`refusing to fetch ${url}: only ${ALLOWED_ORIGIN} is reachable`);
  }
}

async function getJson(url, accept = 'application/json') {
  assertAllowed(url);
  const response = await fetch(url, {headers: {Accept: accept}});
  if(!response.ok) {
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  return response.json();
}

// --- keys ----------------------------------------------------------------------------------------

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

function jwtHeader(compact) {
  return decodeSegment(compact.split('.')[0]);
}


async function verifyWith(jwk, data, signature) {
  const alg = algFor(jwk);
  if(jwtHeader(data).alg !== alg) {
    return false;
  }
  if(alg === 'ES256') {
    return (await ES256.getVerifier({kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y}))(data, signature);
  }
  const key = crypto.createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: jwk.x}, format: 'jwk'});
  return crypto.verify(null, Buffer.from(data), key, Buffer.from(signature, 'base64url'));
}


// the KB-JWT is signed with the credential's cnf.jwk
function kbVerifierInto(errors) {
  return async (data, signature, payload) => {
    const jwk = payload?.cnf?.jwk;
    if(!jwk) {
      errors.push('no cnf.jwk in the credential');
      return false;
    }
    return verifyWith(jwk, data, signature);
  };
}

function messageOf(error) {
  return `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`;
}

function checkKbAudience(request, result, errors) {
  if(request.audience !== undefined && result?.kb?.payload?.aud !== request.audience) {
    errors.push(`KB-JWT aud "${result?.kb?.payload?.aud}" is not "${request.audience}"`);
  }
}

// --- JSON-LD document loader (contexts bundled in the repository; did:key; nothing else) -------

const CONTEXTS = loadContexts();
const didKeyDriver = didKeyDriverFactory();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

async function documentLoader(url) {
  const context = CONTEXTS.get(url);
  if(context !== undefined) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(context), tag: 'static'};
  }
  if(typeof url === 'string' && url.startsWith('did:key:')) {
    return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
  }
  throw new Error(`document loader: refusing to load "${url}"`);
}

function diSuites() {
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
    out.push(messageOf(error));
  }
  for(const e of nested) {
    describe(e, out, seen);
  }
  if(error.cause) {
    describe(error.cause, out, seen);
  }
}

function diErrors(result) {
  const out = [];
  const seen = new Set();
  describe(result.error, out, seen);
  for(const r of result.results ?? []) {
    describe(r?.error, out, seen);
  }
  return [...new Set(out)];
}

// --- W3C Bitstring Status List v1.0 ---------------------------------------------------------------

function idOf(value) {
  return typeof value === 'string' ? value : value?.id;
}

async function bitstringStatuses(credential, now) {
  const statuses = [];
  const errors = [];
  for(const entry of [credential.credentialStatus ?? []].flat()) {
    if(entry?.type !== 'BitstringStatusListEntry') {
      errors.push(`unsupported credentialStatus type ${JSON.stringify(entry?.type)}`);
      continue;
    }
    const url = entry.statusListCredential;
    const purpose = entry.statusPurpose;
    if(typeof entry.statusListIndex !== 'string' || !/^(0|[1-9][0-9]*)$/.test(entry.statusListIndex)) {
      errors.push(`statusListIndex ${JSON.stringify(entry.statusListIndex)} is not a decimal string`);
      continue;
    }
    const index = Number(entry.statusListIndex);
    const status = {purpose, index, url, value: null, listVerified: false, listErrors: []};
    statuses.push(status);
    let list;
    try {
      list = await getJson(url, 'application/vc+ld+json, application/ld+json;q=0.9');
    } catch(error) {
      status.listErrors.push(messageOf(error));
      continue;
    }
    const listResult = await vc.verifyCredential({credential: list, suite: diSuites(), documentLoader, now});
    status.listErrors.push(...(listResult.verified ? [] : diErrors(listResult)));
    const subject = list.credentialSubject ?? {};
    if(![list.type].flat().includes('BitstringStatusListCredential')) {
      status.listErrors.push('the status list credential is not a BitstringStatusListCredential');
    }
    if(subject.type !== 'BitstringStatusList') {
      status.listErrors.push('its credentialSubject is not a BitstringStatusList');
    }
    if(idOf(list.issuer) !== idOf(credential.issuer)) {
      status.listErrors.push(`its issuer ${idOf(list.issuer)} is not the credential's ${idOf(credential.issuer)}`);
    }
    if(list.id !== url) {
      status.listErrors.push(`its id ${list.id} is not the URL it was fetched from`);
    }
    if([subject.statusPurpose].flat().indexOf(purpose) < 0) {
      status.listErrors.push(`its statusPurpose ${subject.statusPurpose} is not the entry's ${purpose}`);
    }
    if((entry.statusSize ?? 1) !== 1) {
      status.listErrors.push('only statusSize 1 is read here');
    }
    let bits;
    try {
      if(typeof subject.encodedList !== 'string' || !subject.encodedList.startsWith('u')) {
        throw new Error('encodedList is not multibase base64url ("u")');
      }
      bits = gunzipSync(Buffer.from(subject.encodedList.slice(1), 'base64url'));
    } catch(error) {
      status.listErrors.push(`encodedList: ${error.message}`);
      continue;
    }
    if(bits.length * 8 < MIN_BITSTRING_BITS) {
      status.listErrors.push(`the list has ${bits.length * 8} bits, fewer than ${MIN_BITSTRING_BITS}`);
    }
    if(index >= bits.length * 8) {
      status.listErrors.push(`statusListIndex ${index} is beyond the list`);
      continue;
    }
    status.value = (bits[index >> 3] >> (7 - (index % 8))) & 1; // MSB-first (§3.2 step 12)
    status.listVerified = status.listErrors.length === 0;
  }
  const verified = errors.length === 0 && statuses.every(s => s.listVerified && s.value === 0);
  for(const s of statuses) {
    if(s.listVerified && s.value !== 0) {
      errors.push(`status ${s.purpose}: bit ${s.index} of ${s.url} is set`);
    }
    errors.push(...s.listErrors.map(e => `status list ${s.url}: ${e}`));
  }
  return {verified, statuses, errors};
}

// --- operations ----------------------------------------------------------------------------------

async function sdJwtVc(request) {
  const errors = [];
  const text = request.sdJwt;
  const issuerJwt = text.split('~')[0];
  let header = null;
  let keys;
  let metadataUrl = null;
  try {
    header = jwtHeader(issuerJwt);
    const iss = decodeSegment(issuerJwt.split('.')[1]).iss;
    if(typeof iss === 'string' && iss.startsWith('did:')) {
      // SD-JWT VC §3.5: the key may also come from the issuer's DID; the kid must be a DID URL of iss
      if(!header.kid?.startsWith(`${iss}#`)) {
        throw new Error(`kid ${header.kid} is not a key of iss ${iss}`);
      }
      keys = [{...jwkFromDidKeyUrl(header.kid).jwk, kid: header.kid}];
    } else {
      const url = new URL(iss);
      metadataUrl = `${url.origin}/.well-known/jwt-vc-issuer${url.pathname === '/' ? '' : url.pathname}`;
      const metadata = await getJson(metadataUrl);
      if(metadata.issuer !== iss) {
        throw new Error(`the metadata's issuer ${metadata.issuer} is not iss ${iss}`);
      }
      keys = metadata.jwks?.keys ?? (await getJson(metadata.jwks_uri)).keys;
    }
  } catch(error) {
    return {verified: false, payload: null, header, kb: null, issuerMetadataUrl: metadataUrl, status: null,
      errors: [`issuer key: ${error.message}`]};
  }

  const status = {uri: null, idx: null, value: null, listHeader: null, listPayload: null};
  const issuerVerifier = async (data, signature) => {
    const kid = jwtHeader(data).kid;
    const jwk = keys.find(k => k.kid === kid);
    if(!jwk) {
      errors.push(`no key "${kid}" in the issuer's JWKS`);
      return false;
    }
    return verifyWith(jwk, data, signature);
  };
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: issuerVerifier, // also the status list token's verifier (statusVerifier unset)
    kbVerifier: kbVerifierInto(errors),
    statusListFetcher: async uri => {
      assertAllowed(uri);
      status.uri = uri;
      const token = await SDJwtVcInstance.prototype.statusListFetcher.call(sdjwt, uri); // the library's fetch
      const [h, p] = token.split('.');
      status.listHeader = decodeSegment(h);
      const {status_list: list, ...rest} = decodeSegment(p);
      status.listPayload = {...rest, status_list: {bits: list?.bits}};
      // Token Status List §8.3 steps the library leaves out: typ and sub
      if(status.listHeader.typ !== 'statuslist+jwt') {
        errors.push(`status list token typ ${status.listHeader.typ} is not statuslist+jwt`);
      }
      if(rest.sub !== uri) {
        errors.push(`status list token sub ${rest.sub} is not its uri ${uri}`);
      }
      return token;
    },
    statusValidator: async value => {
      status.value = value;
      return SDJwtVcInstance.prototype.statusValidator.call(sdjwt, value); // the library's verdict
    }
  });

  const requireKb = request.nonce !== undefined || request.audience !== undefined;
  let result;
  try {
    if(requireKb && request.nonce === undefined) {
      throw new Error('key binding requires a "nonce" to check');
    }
    result = await sdjwt.verify(text, {
      // without "now", the library reads the clock at each check: a status list signed after this
      // call began must not look issued in the future (its iat is the second it was signed)
      currentDate: request.now,
      keyBindingNonce: requireKb ? request.nonce : undefined
    });
  } catch(error) {
    errors.push(messageOf(error));
  }
  status.idx = result?.payload?.status?.status_list?.idx ?? decodeSegment(issuerJwt.split('.')[1]).status?.status_list?.idx ?? null;
  if(result) {
    if(result.header?.typ !== 'dc+sd-jwt') {
      errors.push(`typ ${result.header?.typ} is not dc+sd-jwt`);
    }
    checkKbAudience(request, result, errors);
  }
  const verified = errors.length === 0;
  return {
    verified,
    payload: result?.payload ?? null,
    header: result?.header ?? header,
    kb: result?.kb ?? null,
    issuerMetadataUrl: metadataUrl,
    status: status.uri === null ? null : status,
    errors: [...new Set(errors)]
  };
}

async function vcSdJwt(request) {
  const errors = [];
  const text = request.sdJwt;
  const header = jwtHeader(text.split('~')[0]);
  let issuer;
  try {
    issuer = jwkFromDidKeyUrl(header.kid ?? '');
  } catch(error) {
    return {verified: false, payload: null, header, kb: null, statuses: [], errors: [`issuer key: ${error.message}`]};
  }
  const sdjwt = new SDJwtInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: (data, signature) => verifyWith(issuer.jwk, data, signature),
    kbVerifier: kbVerifierInto(errors)
  });
  const requireKb = request.nonce !== undefined || request.audience !== undefined;
  let result;
  try {
    result = await sdjwt.verify(text, {
      // without "now", the library reads the clock at each check: a status list signed after this
      // call began must not look issued in the future (its iat is the second it was signed)
      currentDate: request.now,
      keyBindingNonce: requireKb ? request.nonce : undefined
    });
  } catch(error) {
    errors.push(messageOf(error));
  }
  let statuses = [];
  if(result) {
    // VC-JOSE-COSE §3.2: typ vc+sd-jwt, cty vc; the issuer is the key's controller
    if(result.header?.typ !== 'vc+sd-jwt') {
      errors.push(`typ ${result.header?.typ} is not vc+sd-jwt`);
    }
    if(result.header?.cty !== undefined && result.header.cty !== 'vc') {
      errors.push(`cty ${result.header.cty} is not vc`);
    }
    if(idOf(result.payload.issuer) !== issuer.did) {
      errors.push(`issuer ${idOf(result.payload.issuer)} is not the signing key's DID ${issuer.did}`);
    }
    const nowMs = (request.now ?? Date.now() / 1000) * 1000;
    const {validFrom, validUntil} = result.payload;
    if(validFrom !== undefined && !(Date.parse(validFrom) <= nowMs)) {
      errors.push(`validFrom ${validFrom} is not before now`);
    }
    if(validUntil !== undefined && !(Date.parse(validUntil) > nowMs)) {
      errors.push(`validUntil ${validUntil} is not after now`);
    }
    checkKbAudience(request, result, errors);
    if(result.payload.credentialStatus) {
      const checked = await bitstringStatuses(result.payload, undefined);
      statuses = checked.statuses;
      errors.push(...checked.errors);
    }
  }
  const verified = errors.length === 0;
  return {verified, payload: result?.payload ?? null, header: result?.header ?? header, kb: result?.kb ?? null,
    statuses, errors: [...new Set(errors)]};
}

async function dataIntegrity(request) {
  const credential = request.credential;
  if(!credential || typeof credential !== 'object') {
    throw new TypeError('"credential" must be an object');
  }
  const now = request.now ? new Date(request.now) : undefined;
  let statusResult = null;
  const result = await vc.verifyCredential({
    credential,
    suite: diSuites(),
    documentLoader,
    now,
    checkStatus: async () => {
      statusResult = await bitstringStatuses(credential, now);
      return statusResult;
    }
  });
  const errors = diErrors(result);
  if(statusResult) {
    errors.push(...statusResult.errors);
  }
  const verified = result.verified === true;
  if(!verified && errors.length === 0) {
    errors.push('not verified (no error reported)');
  }
  return {verified, statuses: statusResult?.statuses ?? [], errors: verified ? [] : [...new Set(errors)]};
}

const OPS = {sdJwtVc, vcSdJwt, dataIntegrity};

serve(OPS, {
  prepare: request => {
    if(typeof request.issuerUrl !== 'string') {
      throw new TypeError('"issuerUrl" (the one origin to fetch from) is required');
    }
    ALLOWED_ORIGIN = new URL(request.issuerUrl).origin;
  },
  message: messageOf
});
