// Oracle: IETF SD-JWT (RFC 9901) and SD-JWT VC through the OpenWallet Foundation's sd-jwt-js
// (@sd-jwt/sd-jwt-vc, @sd-jwt/core, @sd-jwt/crypto-nodejs, all 0.19.0).
//
// Reads one JSON request on stdin, writes one JSON result on stdout. Exit status 0 whenever the
// request was understood (a negative verdict is {"verified": false}); non-zero only when the harness
// itself fails, with {"error": ...} on stdout.
//
// Requests (JWKs are RFC 7517 objects; Ed25519 is OKP/Ed25519, ES256 is EC/P-256):
//   {"op": "verify", "sdJwt": str,
//    "issuerJwk"?: JWK,               // else resolved from the header "kid", else from "iss" (did:key, did:jwk)
//    "now"?: int (seconds),           // default: the clock
//    "nonce"?: str, "audience"?: str, // either one makes a key binding JWT required
//    "requireKeyBinding"?: bool,
//    "maxKbAgeSeconds"?: int,         // default 300: KB-JWT "iat" must be within this of "now"
//    "typ"?: [str] | null,            // accepted issuer JWT "typ"; default ["dc+sd-jwt"]; null = no check
//    "statusLists"?: {uri: statusListJwt}}   // status list tokens, so no network is needed
//     -> {"verified": bool, "payload": claims|null, "header": {...}|null, "kb": {...}|null, "errors": [str]}
//   {"op": "issue", "issuerJwk": private JWK (Ed25519 or P-256), "claims": {...},
//    "disclosable"?: [top-level claim names] | "disclosureFrame"?: sd-jwt-js frame,
//    "holderJwk"?: public JWK (put in cnf.jwk), "kid"?: str, "typ"?: str (default "dc+sd-jwt")}
//     -> {"sdJwt": str}
//   {"op": "present", "sdJwt": str, "reveal"?: [top-level claim names] | "presentationFrame"?: {...},
//    "holderJwk"?: private JWK, "audience"?: str, "nonce"?: str, "iat"?: int}
//     -> {"sdJwt": str}                 (a KB-JWT is appended when holderJwk is given)
//   {"op": "decode", "sdJwt": str} -> {"header", "payload" (unverified, disclosed claims), "disclosures"}
//   {"op": "generateKey", "alg": "EdDSA" | "ES256"} -> {"privateJwk", "publicJwk"}

import crypto from 'node:crypto';

import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {ES256, digest} from '@sd-jwt/crypto-nodejs';
import {base58btcDecode} from './base58.mjs';
import {algFor, serve} from './oracle.mjs';

const DEFAULT_TYP = ['dc+sd-jwt'];

// --- keys and algorithms ---------------------------------------------------------------------


function publicPart(jwk) {
  const alg = algFor(jwk);
  return alg === 'EdDSA' ?
    {kty: 'OKP', crv: 'Ed25519', x: jwk.x} :
    {kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y};
}

async function signerFor(privateJwk) {
  const alg = algFor(privateJwk);
  if(alg === 'ES256') {
    return {alg, sign: await ES256.getSigner(privateJwk)};
  }
  const key = crypto.createPrivateKey({key: privateJwk, format: 'jwk'});
  return {alg, sign: data => crypto.sign(null, Buffer.from(data), key).toString('base64url')};
}

async function verifierFor(publicJwk) {
  const alg = algFor(publicJwk);
  if(alg === 'ES256') {
    const verify = await ES256.getVerifier(publicPart(publicJwk));
    return {alg, verify};
  }
  const key = crypto.createPublicKey({key: publicPart(publicJwk), format: 'jwk'});
  return {alg, verify: (data, sig) => crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'))};
}

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

function jwtHeader(compact) {
  return decodeSegment(compact.split('.')[0]);
}

// did:key (Ed25519 z6Mk…, P-256 zDn…) and did:jwk, resolved without any network.

const P256_SPKI_COMPRESSED_PREFIX = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');

function jwkFromDidUrl(url) {
  const [did, fragment] = url.split('#');
  if(did.startsWith('did:jwk:')) {
    if(fragment !== undefined && fragment !== '0') {
      throw new Error(`did:jwk has one key, "#0"; got "#${fragment}"`);
    }
    return decodeSegment(did.slice('did:jwk:'.length));
  }
  if(did.startsWith('did:key:')) {
    const mb = did.slice('did:key:'.length);
    if(fragment !== undefined && fragment !== mb) {
      throw new Error('did:key fragment must repeat the key');
    }
    if(!mb.startsWith('z')) {
      throw new Error('did:key must be base58btc multibase');
    }
    const bytes = base58btcDecode(mb.slice(1));
    if(bytes[0] === 0xed && bytes[1] === 0x01 && bytes.length === 34) {
      return {kty: 'OKP', crv: 'Ed25519', x: bytes.subarray(2).toString('base64url')};
    }
    if(bytes[0] === 0x80 && bytes[1] === 0x24 && bytes.length === 35) {
      const key = crypto.createPublicKey({
        key: Buffer.concat([P256_SPKI_COMPRESSED_PREFIX, bytes.subarray(2)]), format: 'der', type: 'spki'
      });
      const {kty, crv, x, y} = key.export({format: 'jwk'});
      return {kty, crv, x, y};
    }
    throw new Error('unsupported did:key multicodec');
  }
  throw new Error(`cannot resolve "${url}" offline (did:key and did:jwk only)`);
}

// --- operations --------------------------------------------------------------------------------

function saltGenerator() {
  return crypto.randomBytes(16).toString('base64url');
}

function frameFromNames(names) {
  return Array.isArray(names) ? {_sd: names} : undefined;
}

async function issue(request) {
  const signer = await signerFor(request.issuerJwk);
  const sdjwt = new SDJwtVcInstance({
    signer: signer.sign,
    signAlg: signer.alg,
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator
  });
  const claims = structuredClone(request.claims ?? {});
  if(request.holderJwk) {
    claims.cnf = {jwk: publicPart(request.holderJwk)};
  }
  const frame = request.disclosureFrame ?? frameFromNames(request.disclosable);
  const header = {};
  if(request.kid) {
    header.kid = request.kid;
  }
  if(request.typ) {
    header.typ = request.typ;
  }
  const sdJwt = await sdjwt.issue(claims, frame, {header});
  return {sdJwt};
}

async function present(request) {
  const config = {hasher: digest, hashAlg: 'sha-256'};
  let kb;
  if(request.holderJwk) {
    const holder = await signerFor(request.holderJwk);
    config.kbSigner = holder.sign;
    config.kbSignAlg = holder.alg;
    kb = {
      payload: {
        iat: request.iat ?? Math.floor(Date.now() / 1000),
        aud: request.audience,
        nonce: request.nonce
      }
    };
  }
  const sdjwt = new SDJwtVcInstance(config);
  let frame = request.presentationFrame;
  if(!frame && Array.isArray(request.reveal)) {
    frame = Object.fromEntries(request.reveal.map(name => [name, true]));
  }
  const sdJwt = await sdjwt.present(request.sdJwt, frame, kb ? {kb} : undefined);
  return {sdJwt};
}

// RFC 9901 §7.1 steps sd-jwt-js 0.19.0 leaves out (measured: it accepts a disclosure that no digest
// references, and a disclosure sent twice, silently dropping or keeping the claim). Checked here so
// the oracle rejects what the RFC says to reject; reported separately from the library's verdict.
function collectDigests(value, out) {
  if(Array.isArray(value)) {
    for(const item of value) {
      if(item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length === 1 &&
        typeof item['...'] === 'string') {
        out.push(item['...']);
      } else {
        collectDigests(item, out);
      }
    }
  } else if(value && typeof value === 'object') {
    for(const [key, item] of Object.entries(value)) {
      if(key === '_sd' && Array.isArray(item)) {
        out.push(...item.filter(d => typeof d === 'string'));
      } else {
        collectDigests(item, out);
      }
    }
  }
}

function disclosureChecks(text) {
  const errors = [];
  const parts = text.split('~');
  const payload = decodeSegment(parts[0].split('.')[1]);
  if(payload._sd_alg !== undefined && payload._sd_alg !== 'sha-256') {
    return [`_sd_alg ${payload._sd_alg} is not sha-256`];
  }
  const disclosures = parts.slice(1, -1);
  const referenced = [];
  collectDigests(payload, referenced);
  const digests = [];
  for(const disclosure of disclosures) {
    digests.push(Buffer.from(digest(disclosure, 'sha-256')).toString('base64url'));
    try {
      const decoded = JSON.parse(Buffer.from(disclosure, 'base64url').toString('utf8'));
      collectDigests(decoded.at(-1), referenced);
    } catch {
      errors.push('a disclosure is not base64url JSON');
    }
  }
  const seen = new Set();
  for(const d of referenced) {
    if(seen.has(d)) {
      errors.push(`digest ${d} appears more than once`);
    }
    seen.add(d);
  }
  const presented = new Set();
  for(const d of digests) {
    if(presented.has(d)) {
      errors.push(`disclosure with digest ${d} is sent more than once`);
    }
    presented.add(d);
    if(!seen.has(d)) {
      errors.push(`disclosure with digest ${d} is not referenced by the issuer-signed JWT`);
    }
  }
  return errors.map(e => `RFC 9901 §7.1 (oracle script check): ${e}`);
}

async function verify(request) {
  const errors = [];
  const text = request.sdJwt;
  if(typeof text !== 'string') {
    throw new TypeError('"sdJwt" must be a string');
  }
  const now = request.now ?? Math.floor(Date.now() / 1000);
  const requireKb = request.requireKeyBinding === true || request.nonce !== undefined ||
    request.audience !== undefined;
  const accepted = request.typ === undefined ? DEFAULT_TYP : request.typ;

  let header;
  let issuerVerifier;
  try {
    header = jwtHeader(text.split('~')[0]);
    let issuerJwk = request.issuerJwk;
    if(!issuerJwk) {
      const unverified = decodeSegment(text.split('~')[0].split('.')[1]);
      issuerJwk = jwkFromDidUrl(header.kid ?? unverified.iss ?? '');
    }
    issuerVerifier = await verifierFor(issuerJwk);
  } catch(error) {
    return {verified: false, payload: null, header: header ?? null, kb: null, errors: [`issuer key: ${error.message}`]};
  }

  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: (data, sig) => {
      if(jwtHeader(data).alg !== issuerVerifier.alg) {
        errors.push(`issuer JWT alg is not ${issuerVerifier.alg}`);
        return false;
      }
      return issuerVerifier.verify(data, sig);
    },
    kbVerifier: async (data, sig, payload) => {
      const jwk = payload?.cnf?.jwk;
      if(!jwk) {
        errors.push('no cnf.jwk in the credential');
        return false;
      }
      const holder = await verifierFor(jwk);
      if(jwtHeader(data).alg !== holder.alg) {
        errors.push(`KB-JWT alg is not ${holder.alg}`);
        return false;
      }
      return holder.verify(data, sig);
    },
    statusListFetcher: async uri => {
      const token = request.statusLists?.[uri];
      if(!token) {
        throw new Error(`status list "${uri}" not supplied (no network)`);
      }
      return token;
    }
  });

  let result;
  try {
    if(requireKb && request.nonce === undefined) {
      throw new Error('key binding requires a "nonce" to check');
    }
    result = await sdjwt.verify(text, {
      currentDate: now,
      keyBindingNonce: requireKb ? request.nonce : undefined
    });
  } catch(error) {
    errors.push(`${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`);
    return {verified: false, payload: null, header: header ?? null, kb: null, errors: [...new Set(errors)]};
  }

  // Checks the library leaves to its caller (RFC 9901 §7.1 and §7.3, SD-JWT VC §3.2.1).
  errors.push(...disclosureChecks(text));
  if(accepted !== null && !accepted.includes(result.header?.typ)) {
    errors.push(`issuer JWT typ "${result.header?.typ}" is not one of ${accepted.join(', ')}`);
  }
  if(requireKb) {
    const kbPayload = result.kb?.payload;
    if(!kbPayload) {
      errors.push('key binding JWT missing');
    } else {
      if(request.audience !== undefined && kbPayload.aud !== request.audience) {
        errors.push(`KB-JWT aud "${kbPayload.aud}" is not "${request.audience}"`);
      }
      const maxAge = request.maxKbAgeSeconds ?? 300;
      if(typeof kbPayload.iat !== 'number' || Math.abs(now - kbPayload.iat) > maxAge) {
        errors.push(`KB-JWT iat ${kbPayload.iat} is not within ${maxAge} s of ${now}`);
      }
    }
  }
  const verified = errors.length === 0;
  return {
    verified,
    payload: verified ? result.payload : null,
    header: result.header ?? null,
    kb: result.kb ?? null,
    errors
  };
}

async function decode(request) {
  const sdjwt = new SDJwtVcInstance({hasher: digest, hashAlg: 'sha-256'});
  const decoded = await sdjwt.decode(request.sdJwt);
  const payload = await sdjwt.getClaims(request.sdJwt);
  return {
    header: decoded.jwt?.header ?? null,
    payload,
    disclosures: (decoded.disclosures ?? []).map(d => ({salt: d.salt, key: d.key ?? null, value: d.value})),
    kb: decoded.kbJwt ? {header: decoded.kbJwt.header, payload: decoded.kbJwt.payload} : null
  };
}

async function generateKey(request) {
  if(request.alg === 'ES256') {
    const {publicKey, privateKey} = await ES256.generateKeyPair();
    return {privateJwk: {...publicPart(publicKey), d: privateKey.d}, publicJwk: publicPart(publicKey)};
  }
  if(request.alg === 'EdDSA') {
    const {privateKey} = crypto.generateKeyPairSync('ed25519');
    const jwk = privateKey.export({format: 'jwk'});
    return {privateJwk: {kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d}, publicJwk: publicPart(jwk)};
  }
  throw new TypeError(`unsupported alg ${JSON.stringify(request.alg)}`);
}

const OPS = {verify, issue, present, decode, generateKey};

serve(OPS, {message: error => `${error?.name}: ${error?.message}`});
