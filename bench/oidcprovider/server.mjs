// A benchmark peer for aksid's token endpoint: panva's oidc-provider 9
// issuing RS256 JWT access tokens to one confidential client by the client
// credentials grant, over its own HTTPS. bench/peer_test.go starts it with:
//
//   TLS_CERT_FILE, TLS_KEY_FILE  PEM server certificate and key
//   PORT                         listening port on 127.0.0.1 (0: any)
//   CLIENT_ID, CLIENT_SECRET     the one client's credentials
//
// and waits for the line "listening https://127.0.0.1:PORT" on stdout.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';

import Provider, { errors } from 'oidc-provider';

// The one resource tokens are issued for: what az asks ARM tokens for.
const RESOURCE = 'https://management.azure.com/';
// Its one scope, so that the token carries a scope claim as Entra's does.
const SCOPE = 'user_impersonation';
const TTL = 3600;

function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    console.error(`server.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const cert = fs.readFileSync(env('TLS_CERT_FILE'));
const key = fs.readFileSync(env('TLS_KEY_FILE'));
const port = Number(env('PORT'));
const clientId = env('CLIENT_ID');
const clientSecret = env('CLIENT_SECRET');

// A fresh signing key per start, as aksid's bench data directories have.
// It comes out as PEM and is read back before the JWK export: exporting
// the generated KeyObject itself deadlocked Node 20 (main thread blocked
// in ~KeyGenJob, run by a GC during ExportJWK, on the key's own mutex)
// about once in 45 starts on a loaded machine.
const { privateKey: pem } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const jwk = {
  ...crypto.createPrivateKey(pem).export({ format: 'jwk' }),
  alg: 'RS256',
  use: 'sig',
  kid: crypto.randomBytes(12).toString('base64url'),
};

// Nothing on this peer's one path (a static client, client credentials,
// JWT access tokens) is stored: JWT tokens are issued, not saved. An
// adapter that refuses every call keeps it so, and keeps out the
// development-only in-memory adapter (and its start-up warning).
class NoStorage {
  constructor(model) { this.model = model; }

  refuse(op) { return Promise.reject(new Error(`server.mjs: no storage (${op} ${this.model})`)); }

  upsert() { return this.refuse('upsert'); }

  find() { return this.refuse('find'); }

  findByUserCode() { return this.refuse('findByUserCode'); }

  findByUid() { return this.refuse('findByUid'); }

  consume() { return this.refuse('consume'); }

  destroy() { return this.refuse('destroy'); }

  revokeByGrantId() { return this.refuse('revokeByGrantId'); }
}

const server = https.createServer({ cert, key });
// Idle keep-alive connections outlive a pause between benchmark phases
// (Node's default is 5 s; the Go client keeps them a minute).
server.keepAliveTimeout = 75_000;

server.listen(port, '127.0.0.1', () => {
  const { port: bound } = server.address();
  const issuer = `https://127.0.0.1:${bound}`;
  const provider = new Provider(issuer, {
    adapter: NoStorage,
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [jwk] },
    features: {
      // Production-like: no built-in login pages (and no warning about them).
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A request without resource= gets the same token.
        defaultResource: () => RESOURCE,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: SCOPE,
            audience: RESOURCE,
            accessTokenTTL: TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Set, so the defaults' "you SHOULD change" notices stay quiet.
    ttl: { ClientCredentials: TTL },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

// Exit cleanly on the harness's SIGTERM (a signal death reads as failure).
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
