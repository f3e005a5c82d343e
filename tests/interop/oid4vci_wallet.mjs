// Oracle: an independent OpenID4VCI 1.0 wallet, built on @openid4vc/openid4vci 0.4.6 (with
// @openid4vc/oauth2 for the token request). It runs the whole pre-authorized code flow against a
// credential issuer over real HTTP.
//
// Reads one JSON request on stdin, writes one JSON result on stdout (exit 0 whenever the request was
// understood, so an error the issuer answers with is a result; non-zero with {"error": ...} when the
// harness or the library failed).
//
//   {"op": "obtain",
//    "offer": "openid-credential-offer://?credential_offer_uri=http%3A%2F%2F127.0.0.1…",
//    "txCode": str | null,                       // what the user types; null: send none
//    "configurations"?: [credential_configuration_id],   // default: every one of the offer
//    "holderAlgs"?: ["EdDSA" | "ES256", …]}       // one fresh holder key and proof each, default
//                                                 // ["EdDSA"]; more than one is a batch request
//     -> {"credentialIssuer", "version", "offer": {credential_issuer, credential_configuration_ids,
//         grants}, "authorizationServer", "tokenEndpoint", "token": {token_type, expires_in} | null,
//         "tokenError": {status, error, error_description} | null,
//         "credentials": {configuration id: {"format", "credentials": [credential], "holders":
//             [{"alg", "privateJwk", "publicJwk"}], "proofHeaders": [...], "proofPayloads": [...]}},
//         "credentialErrors": {configuration id: {status, error, error_description}}}
//
// What the library does here (all of it through its public API, Openid4vciClient):
//   1. resolveCredentialOffer: parses the openid-credential-offer:// link and fetches
//      credential_offer_uri (GET), validating the Credential Offer (§4.1);
//   2. resolveIssuerMetadata: fetches /.well-known/openid-credential-issuer (§12.2.2) and the
//      authorization server's /.well-known/oauth-authorization-server (RFC 8414), validates both, and
//      decides the protocol version (credential configurations with credential_metadata → 1.0);
//   3. retrievePreAuthorizedCodeAccessTokenFromOffer: the token request (§6.1) with the
//      pre-authorized_code and tx_code, form-encoded, no client authentication (anonymous access);
//   4. requestNonce: POST to the nonce_endpoint (§7);
//   5. createCredentialRequestJwtProof: builds the openid4vci-proof+jwt (Appendix F.1): header
//      {typ, alg, jwk}, payload {aud: credential_issuer, iat, nonce}, no iss (anonymous pre-auth);
//      it refuses an alg the configuration's proof_signing_alg_values_supported does not list;
//   6. retrieveCredentials: the credential request (§8) by credential_configuration_id with
//      proofs.jwt, checking the batch size against batch_credential_issuance, and validates the
//      Credential Response.
// What this script supplies as callbacks: JWS signing (Ed25519 with node:crypto, ES256 with
// @sd-jwt/crypto-nodejs, i.e. WebCrypto), hashing, random bytes, fetch (the global fetch) and
// anonymous client authentication.

import crypto from 'node:crypto';

import {Oauth2ClientErrorResponseError, clientAuthenticationAnonymous} from '@openid4vc/oauth2';
import {Openid4vciClient, Openid4vciRetrieveCredentialsError} from '@openid4vc/openid4vci';
import {setGlobalConfig} from '@openid4vc/utils';
import {ES256} from '@sd-jwt/crypto-nodejs';
import {serve} from './oracle.mjs';

// the issuer under test listens on http://127.0.0.1 (no TLS in tests)
setGlobalConfig({allowInsecureUrls: true});

// --- keys --------------------------------------------------------------------------------------

function publicPart(jwk) {
  return jwk.kty === 'EC' ?
    {kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y} :
    {kty: 'OKP', crv: jwk.crv, x: jwk.x};
}

async function generateHolder(alg) {
  if(alg === 'ES256') {
    const {publicKey, privateKey} = await ES256.generateKeyPair();
    const privateJwk = {...publicPart(publicKey), d: privateKey.d};
    return {alg, privateJwk, publicJwk: publicPart(publicKey)};
  }
  if(alg === 'EdDSA') {
    const {privateKey} = crypto.generateKeyPairSync('ed25519');
    const jwk = privateKey.export({format: 'jwk'});
    const privateJwk = {kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d};
    return {alg, privateJwk, publicJwk: publicPart(privateJwk)};
  }
  throw new TypeError(`unsupported holder alg ${JSON.stringify(alg)}`);
}

// The holder keys of this run, by the thumbprint-free identity of their public part.
const HOLDERS = new Map();

function keyOf(jwk) {
  return JSON.stringify(publicPart(jwk));
}

function b64urlJson(value) {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

// SignJwtCallback: the library hands over the signer it was given and the header and payload it built.
async function signJwt(signer, {header, payload}) {
  if(signer.method !== 'jwk') {
    throw new Error(`this wallet signs with its own JWKs only, not ${signer.method}`);
  }
  const holder = HOLDERS.get(keyOf(signer.publicJwk));
  if(!holder) {
    throw new Error('signJwt: unknown holder key');
  }
  if(header.alg !== holder.alg) {
    throw new Error(`signJwt: header alg ${header.alg} does not fit the ${holder.alg} key`);
  }
  const input = `${b64urlJson(header)}.${b64urlJson(payload)}`;
  let signature;
  if(holder.alg === 'ES256') {
    signature = await (await ES256.getSigner(holder.privateJwk))(input);
  } else {
    const key = crypto.createPrivateKey({key: holder.privateJwk, format: 'jwk'});
    signature = crypto.sign(null, Buffer.from(input), key).toString('base64url');
  }
  return {jwt: `${input}.${signature}`, signerJwk: signer.publicJwk};
}

function hash(data, alg) {
  const name = {'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512'}[alg.toLowerCase()];
  if(!name) {
    throw new Error(`unsupported hash ${alg}`);
  }
  return new Uint8Array(crypto.createHash(name).update(data).digest());
}

const client = new Openid4vciClient({
  callbacks: {
    signJwt,
    hash,
    generateRandom: length => new Uint8Array(crypto.randomBytes(length)),
    fetch: (...args) => fetch(...args),
    clientAuthentication: clientAuthenticationAnonymous()
  }
});

function decodeJwtPart(compact, index) {
  return JSON.parse(Buffer.from(compact.split('.')[index], 'base64url').toString('utf8'));
}

async function errorBody(response) {
  try {
    return await response.clone().json();
  } catch {
    return {text: await response.clone().text()};
  }
}

// --- the flow ----------------------------------------------------------------------------------

async function obtain(request) {
  const offer = await client.resolveCredentialOffer(request.offer);
  const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const result = {
    credentialIssuer: metadata.credentialIssuer.credential_issuer,
    version: metadata.originalDraftVersion,
    offer,
    authorizationServer: null,
    tokenEndpoint: metadata.authorizationServers[0]?.token_endpoint ?? null,
    token: null,
    tokenError: null,
    credentials: {},
    credentialErrors: {}
  };

  let token;
  try {
    token = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
      credentialOffer: offer,
      issuerMetadata: metadata,
      txCode: request.txCode ?? undefined
    });
  } catch(error) {
    if(error instanceof Oauth2ClientErrorResponseError) {
      result.tokenError = {status: error.response?.status ?? null, ...error.errorResponse};
      return result;
    }
    throw error;
  }
  result.authorizationServer = token.authorizationServer;
  result.token = {
    token_type: token.accessTokenResponse.token_type,
    expires_in: token.accessTokenResponse.expires_in ?? null
  };
  const accessToken = token.accessTokenResponse.access_token;

  const ids = request.configurations ?? offer.credential_configuration_ids;
  for(const configurationId of ids) {
    const configuration = metadata.credentialIssuer.credential_configurations_supported[configurationId];
    const holders = [];
    for(const alg of request.holderAlgs ?? ['EdDSA']) {
      const holder = await generateHolder(alg);
      HOLDERS.set(keyOf(holder.publicJwk), holder);
      holders.push(holder);
    }
    const {c_nonce: nonce} = await client.requestNonce({issuerMetadata: metadata});
    const jwts = [];
    for(const holder of holders) {
      const {jwt} = await client.createCredentialRequestJwtProof({
        issuerMetadata: metadata,
        credentialConfigurationId: configurationId,
        signer: {method: 'jwk', alg: holder.alg, publicJwk: holder.publicJwk},
        nonce
      });
      jwts.push(jwt);
    }
    let response;
    try {
      response = await client.retrieveCredentials({
        issuerMetadata: metadata,
        credentialConfigurationId: configurationId,
        accessToken,
        proofs: {jwt: jwts}
      });
    } catch(error) {
      if(error instanceof Openid4vciRetrieveCredentialsError) {
        result.credentialErrors[configurationId] = {
          status: error.response.response.status,
          ...(await errorBody(error.response.response))
        };
        continue;
      }
      throw error;
    }
    const body = response.credentialResponse;
    result.credentials[configurationId] = {
      format: configuration?.format ?? null,
      credentials: (body.credentials ?? []).map(entry => entry.credential),
      holders,
      proofHeaders: jwts.map(jwt => decodeJwtPart(jwt, 0)),
      proofPayloads: jwts.map(jwt => decodeJwtPart(jwt, 1))
    };
  }
  return result;
}

const OPS = {obtain};

serve(OPS);
