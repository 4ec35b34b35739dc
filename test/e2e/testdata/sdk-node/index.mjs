// The Azure SDK for JavaScript (npm @azure/identity, @azure/msal-node,
// @azure/arm-resources, -authorization, -containerservice, -msi) against aksid.
//
// Usage: node index.mjs proxy|direct main|workload
//
// proxy:  written as for Azure. HTTPS_PROXY (read by the SDK's pipeline,
//         uppercase before lowercase; @azure/identity's token requests go
//         through the same pipeline) and NODE_EXTRA_CA_CERTS from
//         `aksid env` take every request to aksid. MSAL Node on its own
//         reads no proxy variable (it sends with Node's fetch): it is
//         given a network client on the SDK's pipeline.
// direct: aksid's own URL (AKSID_URL): the credentials take authorityHost
//         and disableInstanceDiscovery (MSAL Node knownAuthorities); the
//         management clients only their endpoint: arm-authorization and
//         arm-msi then ask for "<endpoint>/.default", which aksid's ARM
//         accepts directly, arm-resources and arm-containerservice for
//         management.azure.com's scope.
//
// Phases, each a process with the environment its host would give it:
// main      ClientSecretCredential (AKSID_ADMIN_CLIENT_ID/SECRET, Owner),
//           ClientCertificateCredential (NODE_CERT_CLIENT_ID, NODE_CERT_FILE:
//           key and certificate in one PEM), DefaultAzureCredential
//           (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID), MSAL
//           Node; a resource group, role assignments, an AKS cluster and
//           its credentials, a user-assigned identity (Reader on the group)
//           with a federated credential for NODE_SUBJECT on the cluster's
//           issuer.
// workload  a pod's environment as AKS's workload identity webhook writes
//           it (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
//           AZURE_AUTHORITY_HOST): WorkloadIdentityCredential and
//           DefaultAzureCredential, each reading the group.
// Names from NODE_GROUP, NODE_CLUSTER, NODE_IDENTITY.
// Prints one JSON object on stdout; exits 1 with the error on stderr.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, WorkloadIdentityCredential } from "@azure/identity";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { createDefaultHttpClient, createHttpHeaders, createPipelineFromOptions, createPipelineRequest } from "@azure/core-rest-pipeline";
import { ResourceManagementClient } from "@azure/arm-resources";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";

const ARM_SCOPE = "https://management.azure.com/.default";
const AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"; // the AKS server application
const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`index.mjs: ${name} is not set`);
  return v;
}

function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url))).version;

const [way, phase] = process.argv.slice(2);
const phases = { main: mainPhase, workload: workloadPhase };
if ((way !== "proxy" && way !== "direct") || !phases[phase]) throw new Error("usage: node index.mjs proxy|direct main|workload");
const direct = way === "direct";
const url = direct ? env("AKSID_URL") : undefined;
const tenant = env("AZURE_TENANT_ID");
const sub = env("AKSID_SUBSCRIPTION_ID");

// What differs between the two ways in: only the direct one says anything.
const credOpts = direct ? { authorityHost: url, disableInstanceDiscovery: true } : {};
const mgmtOpts = direct ? { endpoint: url } : {};

async function tokens(cred) {
  const arm = (await cred.getToken(ARM_SCOPE)).token;
  const aks = (await cred.getToken(AKS_SCOPE)).token;
  const c = claims(arm);
  return { arm, aks, oid: c.oid, appid: c.appid, iss: c.iss };
}

const certificateCredential = () =>
  new ClientCertificateCredential(tenant, env("NODE_CERT_CLIENT_ID"), { certificatePath: env("NODE_CERT_FILE") },
    { ...credOpts, sendCertificateChain: true });

async function statusOf(fn) {
  try {
    await fn();
    return 200;
  } catch (e) {
    if (e.statusCode === undefined) throw e;
    return { status: e.statusCode, code: e.code ?? e.details?.error?.code };
  }
}

// MSAL Node 7 sends with Node's global fetch and has no proxy setting
// (proxyUrl is gone); Node 20's fetch ignores HTTPS_PROXY. Through the
// proxy it is given a network client on @azure/core-rest-pipeline, whose
// proxy policy reads HTTPS_PROXY, as @azure/identity does for it.
function pipelineNetworkClient() {
  const pipeline = createPipelineFromOptions({});
  const client = createDefaultHttpClient();
  const send = async (method, url, options = {}) => {
    const res = await pipeline.sendRequest(client, createPipelineRequest({
      url, method, body: options.body, headers: createHttpHeaders(options.headers ?? {}),
    }));
    return { headers: res.headers.toJSON(), body: res.bodyAsText ? JSON.parse(res.bodyAsText) : {}, status: res.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send("GET", url, options),
    sendPostRequestAsync: (url, options) => send("POST", url, options),
  };
}

async function msalToken(clientId, secret) {
  const app = new ConfidentialClientApplication({
    auth: direct
      ? { clientId, clientSecret: secret, authority: `${url}/${tenant}`, knownAuthorities: [new URL(url).host] }
      : { clientId, clientSecret: secret, authority: `https://login.microsoftonline.com/${tenant}` },
    system: direct ? {} : { networkClient: pipelineNetworkClient() },
  });
  const got = await app.acquireTokenByClientCredential({ scopes: [AKS_SCOPE] });
  const again = await app.acquireTokenByClientCredential({ scopes: [AKS_SCOPE] });
  if (!again || again.accessToken !== got.accessToken || !again.fromCache) throw new Error("msal-node: the token is not in its cache");
  return { aks: got.accessToken, oid: claims(got.accessToken).oid };
}

async function assign(auth, scope, roleGuid, principalId) {
  return auth.roleAssignments.create(scope, randomUUID(), {
    roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
    principalId,
    principalType: "ServicePrincipal",
  });
}

async function mainPhase() {
  const out = { versions: { node: process.version } };
  for (const p of ["@azure/identity", "@azure/msal-node", "@azure/core-rest-pipeline", "@azure/arm-resources", "@azure/arm-authorization", "@azure/arm-containerservice", "@azure/arm-msi"]) {
    out.versions[p] = version(p);
  }
  const group = env("NODE_GROUP"), clusterName = env("NODE_CLUSTER"), identityName = env("NODE_IDENTITY");

  const admin = new ClientSecretCredential(tenant, env("AKSID_ADMIN_CLIENT_ID"), env("AKSID_ADMIN_CLIENT_SECRET"), credOpts);
  out.secret = await tokens(admin);
  const cert = certificateCredential();
  // MSAL Node signs one client assertion and sends it for every scope
  // until it expires (ClientAssertion.getJwt), as Entra accepts.
  out.certificate = await tokens(cert);
  const dflt = new DefaultAzureCredential(credOpts);
  out.default = await tokens(dflt);
  out.msal = await msalToken(env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"));

  // ResourceManagementClient (8.x: api-version 2025-04-01): the group, and
  // the provider AKS needs.
  const rm = new ResourceManagementClient(admin, sub, mgmtOpts);
  const g = await rm.resourceGroups.createOrUpdate(group, { location: "westus2", tags: { by: "node" } });
  out.group = { id: g.id, provisioningState: g.properties?.provisioningState };
  const names = [];
  for await (const x of rm.resourceGroups.list()) names.push(x.name);
  if (!names.includes(group)) throw new Error(`the new group is not in the list: ${names}`);
  // The JS SDK does not register a provider on ARM's 409
  // MissingSubscriptionRegistration (azure-mgmt-core does): register both.
  await rm.providers.register("Microsoft.ContainerService");
  await rm.providers.register("Microsoft.ManagedIdentity");

  // The certificate's principal holds no role yet: ARM refuses it.
  const scope = g.id;
  const certRM = new ResourceManagementClient(cert, sub, mgmtOpts);
  out.certificateBefore = await statusOf(() => certRM.resourceGroups.get(group));

  const auth = new AuthorizationManagementClient(admin, sub, mgmtOpts);
  const found = [];
  for await (const d of auth.roleDefinitions.list(scope, { filter: "roleName eq 'Contributor'" })) found.push(d.name);
  if (found.length !== 1 || found[0] !== CONTRIBUTOR) throw new Error(`role definition lookup: ${found}`);
  const contributor = await assign(auth, scope, CONTRIBUTOR, out.certificate.oid);
  const reader = await assign(auth, scope, READER, out.default.oid);
  const listed = [];
  for await (const a of auth.roleAssignments.listForScope(scope, { filter: `principalId eq '${out.certificate.oid}'` })) listed.push(a.name);
  if (listed.length !== 1 || listed[0] !== contributor.name) throw new Error(`listForScope with $filter: ${listed}`);
  out.assignments = { contributor: contributor.id, reader: reader.id };
  out.certificateAfter = await statusOf(() => certRM.resourceGroups.get(group));

  // ContainerServiceClient, as the certificate's principal (Contributor).
  const cs = new ContainerServiceClient(cert, sub, mgmtOpts);
  const created = await cs.managedClusters.beginCreateOrUpdateAndWait(group, clusterName, {
    location: "westus2",
    dnsPrefix: clusterName,
    identity: { type: "SystemAssigned" },
    agentPoolProfiles: [{ name: "nodepool1", count: 1, vmSize: "Standard_DS2_v2", osType: "Linux", mode: "System" }],
    oidcIssuerProfile: { enabled: true },
  });
  const user = await cs.managedClusters.listClusterUserCredentials(group, clusterName);
  const adminCreds = await cs.managedClusters.listClusterAdminCredentials(group, clusterName);
  const text = (k) => Buffer.from(k.value).toString();
  const kubeconfig = text(user.kubeconfigs[0]);
  out.cluster = {
    id: created.id,
    provisioningState: created.provisioningState,
    fqdn: created.fqdn,
    issuer: created.oidcIssuerProfile?.issuerURL,
    principalId: created.identity?.principalId,
    userKubeconfig: kubeconfig.includes("clusters:") && kubeconfig.includes(created.fqdn),
    adminKubeconfig: text(adminCreds.kubeconfigs[0]).includes("client-certificate-data"),
    kubeconfigNames: [...user.kubeconfigs, ...adminCreds.kubeconfigs].map((k) => k.name),
  };

  // DefaultAzureCredential's principal is a Reader: it reads the cluster
  // and cannot change the group.
  const dcs = new ContainerServiceClient(dflt, sub, mgmtOpts);
  out.defaultReadsCluster = (await dcs.managedClusters.get(group, clusterName)).provisioningState;
  const drm = new ResourceManagementClient(dflt, sub, mgmtOpts);
  out.defaultWrites = await statusOf(() => drm.resourceGroups.update(group, { tags: { by: "reader" } }));

  // ManagedServiceIdentityClient: a user-assigned identity.
  const msi = new ManagedServiceIdentityClient(admin, sub, mgmtOpts);
  const ident = await msi.userAssignedIdentities.createOrUpdate(group, identityName, { location: "westus2" });
  await assign(auth, scope, READER, ident.principalId);
  const fic = await msi.federatedIdentityCredentials.createOrUpdate(group, identityName, "kubernetes", {
    issuer: out.cluster.issuer, subject: env("NODE_SUBJECT"), audiences: ["api://AzureADTokenExchange"],
  });
  out.identity = { id: ident.id, clientId: ident.clientId, principalId: ident.principalId, federatedIssuer: fic.issuer };
  return out;
}

// The pod's credentials take everything from the webhook's variables;
// directly, disableInstanceDiscovery too (AZURE_AUTHORITY_HOST is aksid's URL).
async function workloadPhase() {
  const group = env("NODE_GROUP");
  for (const name of ["AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"]) env(name);
  const opts = direct ? { disableInstanceDiscovery: true } : {};
  const out = {};
  for (const [key, cred] of [["workload", new WorkloadIdentityCredential(opts)], ["default", new DefaultAzureCredential(opts)]]) {
    out[key] = await tokens(cred);
    const rm = new ResourceManagementClient(cred, sub, mgmtOpts);
    out[key + "ReadsGroup"] = (await rm.resourceGroups.get(group)).name;
  }
  return out;
}

phases[phase]().then(
  (out) => process.stdout.write(JSON.stringify(out) + "\n"),
  (e) => {
    process.stderr.write(`index.mjs ${way} ${phase}: ${e?.stack ?? e}\n`);
    if (e?.request) process.stderr.write(`request: ${e.request.method} ${e.request.url}\n`);
    if (e?.response?.bodyAsText) process.stderr.write(`response: ${e.response.status} ${e.response.bodyAsText}\n`);
    process.exit(1);
  },
);
