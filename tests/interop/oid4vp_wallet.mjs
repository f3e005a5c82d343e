// Oracle: an independent OpenID4VP 1.0 wallet, built on @openid4vc/openid4vp 0.4.6 (request side and
// response side) with @sd-jwt/sd-jwt-vc 0.19.0 for the presentation itself. It runs one whole session
// against a verifier over real HTTP.
//
// Reads one JSON request on stdin, writes one JSON result on stdout (exit 0 whenever the request was
// understood; non-zero with {"error": ...} when the harness or the library failed).
//
//   {"op": "present",
//    "link": "openid4vp://?client_id=decentralized_identifier:did:key:…&request_uri=http://127.0.0.1:…",
//    "credentials": {"<dcql credential query id>": sdJwt},   // the SD-JWT VCs to present
//    "holderJwk": private JWK (Ed25519 or P-256),           // the key in the credentials' cnf
//    "reveal": [top-level claim names]}                     // selectively disclosed claims
//     -> {"clientId", "clientPrefix", "didUrl", "nonce", "responseUri", "clientName", "clientMetadata",
//         "purpose", "dcqlQuery", "version", "responseStatus", "responseBody"}
//
// What the library does here (all of it through its public API, Openid4vpClient):
//   1. parseOpenid4vpAuthorizationRequest: parses the openid4vp:// link (a JAR by reference);
//   2. resolveOpenId4vpAuthorizationRequest: fetches request_uri (GET), checks typ oauth-authz-req+jwt,
//      checks the JWT signer method is "did" for the decentralized_identifier: prefix and that the
//      signing DID is the client_id's DID, validates the request payload (response_type, response_mode,
//      response_uri, nonce, dcql_query, client_metadata) and that client_id matches the link's;
//   3. createOpenid4vpAuthorizationResponse: builds and validates the response payload (state copied);
//   4. submitOpenid4vpAuthorizationResponse: the direct_post form POST to response_uri.
// What this script supplies as callbacks: JWS verification of the request object (Ed25519 did:key
// resolved offline with node:crypto), hashing, and fetch (the global fetch). The KB-JWT is made by
// @sd-jwt/sd-jwt-vc with aud = the full client_id and the request's nonce (OpenID4VP Appendix B.3.6).

import crypto from 'node:crypto';

import {Openid4vpClient} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/utils';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {ES256, digest} from '@sd-jwt/crypto-nodejs';
import {jwkFromDidKeyUrl, serve} from './oracle.mjs';

// the verifier under test listens on http://127.0.0.1 (no TLS in tests)
setGlobalConfig({allowInsecureUrls: true});



async function verifyJwt(signer, {header, compact}) {
  if(signer.method !== 'did') {
    return {verified: false};
  }
  const {jwk} = jwkFromDidKeyUrl(signer.didUrl);
  if(header.alg !== 'EdDSA') {
    return {verified: false, signerJwk: jwk};
  }
  const [h, p, s] = compact.split('.');
  const key = crypto.createPublicKey({key: jwk, format: 'jwk'});
  const verified = crypto.verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  return verified ? {verified: true, signerJwk: jwk} : {verified: false, signerJwk: jwk};
}

function hash(data, alg) {
  const name = {'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512'}[alg.toLowerCase()] ?? 'sha256';
  return new Uint8Array(crypto.createHash(name).update(data).digest());
}

function unsupported(what) {
  return () => {
    throw new Error(`${what} is not used in this session`);
  };
}

const client = new Openid4vpClient({
  callbacks: {
    verifyJwt,
    hash,
    fetch: (...args) => fetch(...args),
    signJwt: unsupported('signJwt'),
    encryptJwe: unsupported('encryptJwe'),
    decryptJwe: unsupported('decryptJwe')
  }
});

async function holderSigner(privateJwk) {
  if(privateJwk.kty === 'EC') {
    return {alg: 'ES256', sign: await ES256.getSigner(privateJwk)};
  }
  const key = crypto.createPrivateKey({key: privateJwk, format: 'jwk'});
  return {alg: 'EdDSA', sign: data => crypto.sign(null, Buffer.from(data), key).toString('base64url')};
}

async function present(request) {
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: request.link});
  if(parsed.type !== 'jar') {
    throw new Error(`expected a request by reference (jar), got ${parsed.type}`);
  }
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({authorizationRequestPayload: parsed.params});
  const payload = resolved.authorizationRequestPayload;

  const holder = await holderSigner(request.holderJwk);
  const sdjwt = new SDJwtVcInstance({hasher: digest, hashAlg: 'sha-256', kbSigner: holder.sign, kbSignAlg: holder.alg});
  const frame = Object.fromEntries((request.reveal ?? []).map(name => [name, true]));
  const vpToken = {};
  for(const [queryId, credential] of Object.entries(request.credentials)) {
    const presentation = await sdjwt.present(credential, frame, {
      kb: {payload: {iat: Math.floor(Date.now() / 1000), aud: payload.client_id, nonce: payload.nonce}}
    });
    vpToken[queryId] = [presentation];
  }

  const created = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: {vp_token: vpToken}
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: created.authorizationResponsePayload
  });
  const text = await submitted.response.text();
  return {
    clientId: payload.client_id,
    clientPrefix: resolved.client.prefix,
    didUrl: resolved.client.didUrl ?? null,
    nonce: payload.nonce,
    responseUri: payload.response_uri,
    responseMode: submitted.responseMode,
    clientName: resolved.client.clientMetadata?.client_name ?? null,
    clientMetadata: resolved.client.clientMetadata ?? null,
    // OpenID4VP has no request-level purpose; Tessera adds one (the library keeps unknown members)
    purpose: payload.purpose ?? null,
    dcqlQuery: resolved.dcql?.query ?? null,
    version: resolved.version,
    state: created.authorizationResponsePayload.state ?? null,
    responseStatus: submitted.response.status,
    responseBody: text
  };
}

const OPS = {present};

serve(OPS);
