#!/usr/bin/python3
"""The Azure SDK for Python (Debian's python3-azure, python3-msal) against aksid.

Usage: sdk_python.py proxy|direct main|workload|imds

proxy:  written as for Azure. HTTPS_PROXY and REQUESTS_CA_BUNDLE (from
        `aksid env`) take every request to aksid; nothing in here changes.
direct: aksid's own URL (AKSID_URL). Debian's azure-identity 1.13.0b2 has
        no disable_instance_discovery, so MSAL would ask
        login.microsoftonline.com about aksid's host. Two ways round it:
        the ADFS-shaped authority (tenant "adfs", authority=AKSID_URL), which
        MSAL never validates and for which aksid infers the tenant from the
        client; or the credential's private keyword instance_discovery=False
        (the later disable_instance_discovery) with the real tenant. The
        management clients take base_url=AKSID_URL and
        credential_scopes=["https://management.azure.com/.default"].

Phases, each a process with the environment its host would give it:
main      ClientSecretCredential (AKSID_ADMIN_CLIENT_ID/SECRET, Owner),
          CertificateCredential (PY_CERT_CLIENT_ID, PY_CERT_FILE: key and
          certificate in one PEM) and DefaultAzureCredential (AZURE_CLIENT_ID,
          AZURE_CLIENT_SECRET, AZURE_TENANT_ID); a resource group, role
          assignments, a user-assigned identity with a federated credential,
          an AKS cluster with its credentials.
workload  a pod's environment as AKS's workload identity webhook writes it
          (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE,
          AZURE_AUTHORITY_HOST): WorkloadIdentityCredential where this
          azure-identity has it, else ManagedIdentityCredential's token
          exchange (how 1.13.0b2 does workload identity), and
          DefaultAzureCredential.
imds      a VM's: AZURE_CLIENT_ID names its user-assigned identity, and
          HTTP_PROXY (`aksid host env`) reaches IMDS as that VM.

Names come from PY_GROUP, PY_CLUSTER, PY_IDENTITY, PY_SUBJECT. Prints one
JSON object on stdout; exits 1 with the error on stderr on any failure.
"""
import base64
import json
import os
import sys
import traceback
import uuid

import msal
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
import azure.identity
from azure.identity import (CertificateCredential, ClientSecretCredential, DefaultAzureCredential,
                            ManagedIdentityCredential)
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import (ManagedCluster, ManagedClusterAgentPoolProfile, ManagedClusterIdentity,
                                                ManagedClusterOIDCIssuerProfile)
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.resource import ResourceManagementClient

ARM_SCOPE = "https://management.azure.com/.default"
AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"  # the AKS server application
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def env(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit("sdk_python.py: %s is not set" % name)
    return v


def claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def tokens(cred):
    """An ARM and an AKS token, and who they name."""
    arm = cred.get_token(ARM_SCOPE).token
    aks = cred.get_token(AKS_SCOPE).token
    c = claims(arm)
    return {"arm": arm, "aks": aks, "oid": c["oid"], "appid": c["appid"], "iss": c["iss"]}


def certificate_tokens(way, cert, out):
    """MSAL Python signs a client assertion once and sends it again for 9
    minutes (oauth2cli AutoRefresher), for each scope; Entra accepts it
    each time, and so must aksid (docs/compat/python.md)."""
    arm = cert.get_token(ARM_SCOPE).token
    aks = cert.get_token(AKS_SCOPE).token
    out["certificateAssertionReused"] = "accepted"
    c = claims(arm)
    return {"arm": arm, "aks": aks, "oid": c["oid"], "appid": c["appid"], "iss": c["iss"]}


def msal_token(way, client_id, secret):
    """MSAL Python on its own: a confidential client, then the same token
    from its cache (the response passed MSAL's checks and was stored)."""
    if way.direct:
        app = msal.ConfidentialClientApplication(client_id, client_credential=secret,
                                                 authority=way.url + "/" + way.tenant, instance_discovery=False)
    else:
        app = msal.ConfidentialClientApplication(client_id, client_credential=secret,
                                                 authority="https://login.microsoftonline.com/" + way.tenant)
    got = app.acquire_token_for_client([AKS_SCOPE])
    if "access_token" not in got:
        raise RuntimeError("msal: %s" % got.get("error_description", got))
    cached = app.acquire_token_silent([AKS_SCOPE], account=None)
    if not cached or cached.get("access_token") != got["access_token"]:
        raise RuntimeError("msal: the token is not in its cache")
    return {"aks": got["access_token"], "oid": claims(got["access_token"])["oid"]}


class Way:
    """What differs between the two ways in: only the direct one says anything."""

    def __init__(self, way):
        self.direct = way == "direct"
        self.url = env("AKSID_URL") if self.direct else None
        self.tenant = env("AZURE_TENANT_ID")
        self.sub = env("AKSID_SUBSCRIPTION_ID")

    def mgmt(self):
        if not self.direct:
            return {}
        return {"base_url": self.url, "credential_scopes": [ARM_SCOPE]}

    def client(self, cls, cred, **kw):
        return cls(cred, self.sub, **kw, **self.mgmt())

    def secret_credential(self, client_id, secret):
        if self.direct:
            # The ADFS-shaped authority: MSAL skips instance discovery.
            return ClientSecretCredential("adfs", client_id, secret, authority=self.url)
        return ClientSecretCredential(self.tenant, client_id, secret)

    def certificate_credential(self, client_id, path):
        if self.direct:
            # The real tenant, with the beta's private keyword.
            return CertificateCredential(self.tenant, client_id, certificate_path=path, authority=self.url,
                                         instance_discovery=False, send_certificate_chain=True)
        return CertificateCredential(self.tenant, client_id, certificate_path=path, send_certificate_chain=True)

    def default_credential(self):
        if self.direct:
            return DefaultAzureCredential(authority=self.url, instance_discovery=False)
        return DefaultAzureCredential()


def status_of(fn):
    try:
        fn()
        return 200
    except HttpResponseError as e:
        code = e.error.code if e.error else None
        return {"status": e.status_code, "code": code}


def assign(auth, scope, role_guid, principal_id):
    role_id = "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (auth._config.subscription_id, role_guid)
    params = RoleAssignmentCreateParameters(role_definition_id=role_id, principal_id=principal_id,
                                            principal_type="ServicePrincipal")
    return auth.role_assignments.create(scope, str(uuid.uuid4()), params)


def main_phase(way):
    out = {"versions": {"msal": msal.__version__, "azure-identity": azure.identity.__version__}}
    group, cluster_name, identity_name = env("PY_GROUP"), env("PY_CLUSTER"), env("PY_IDENTITY")

    admin = way.secret_credential(env("AKSID_ADMIN_CLIENT_ID"), env("AKSID_ADMIN_CLIENT_SECRET"))
    out["secret"] = tokens(admin)
    cert = way.certificate_credential(env("PY_CERT_CLIENT_ID"), env("PY_CERT_FILE"))
    out["certificate"] = certificate_tokens(way, cert, out)
    default = way.default_credential()
    out["default"] = tokens(default)
    out["msal"] = msal_token(way, env("AZURE_CLIENT_ID"), env("AZURE_CLIENT_SECRET"))

    # ResourceManagementClient: the group, and the provider AKS needs.
    rm = way.client(ResourceManagementClient, admin)
    g = rm.resource_groups.create_or_update(group, {"location": "westus2", "tags": {"by": "python"}})
    out["group"] = {"id": g.id, "provisioningState": g.properties.provisioning_state}
    if not any(x.name == group for x in rm.resource_groups.list()):
        raise RuntimeError("the new group is not in the list")
    rm.providers.register("Microsoft.ContainerService")

    # The certificate's principal holds no role yet: ARM refuses it.
    scope = g.id
    cert_rm = way.client(ResourceManagementClient, cert)
    out["certificateBefore"] = status_of(lambda: cert_rm.resource_groups.get(group))

    # AuthorizationManagementClient: where Debian's az crashes.
    auth = way.client(AuthorizationManagementClient, admin)
    found = list(auth.role_definitions.list(scope, filter="roleName eq 'Contributor'"))
    if len(found) != 1 or found[0].name != CONTRIBUTOR:
        raise RuntimeError("role definition lookup: %r" % [d.name for d in found])
    contributor = assign(auth, scope, CONTRIBUTOR, out["certificate"]["oid"])
    reader = assign(auth, scope, READER, out["default"]["oid"])
    listed = [a.name for a in auth.role_assignments.list_for_scope(scope, filter="principalId eq '%s'" % out["certificate"]["oid"])]
    if listed != [contributor.name]:
        raise RuntimeError("list_for_scope with $filter: %r" % listed)
    out["assignments"] = {"contributor": contributor.id, "reader": reader.id}
    out["certificateAfter"] = status_of(lambda: cert_rm.resource_groups.get(group))

    # ContainerServiceClient, as the certificate's principal (Contributor):
    # a cluster with managed identity and the OIDC issuer.
    cs = way.client(ContainerServiceClient, cert)
    mc = ManagedCluster(
        location="westus2", dns_prefix=cluster_name, identity=ManagedClusterIdentity(type="SystemAssigned"),
        agent_pool_profiles=[ManagedClusterAgentPoolProfile(name="nodepool1", count=1, vm_size="Standard_DS2_v2",
                                                            os_type="Linux", mode="System")],
        oidc_issuer_profile=ManagedClusterOIDCIssuerProfile(enabled=True))
    created = cs.managed_clusters.begin_create_or_update(group, cluster_name, mc).result()
    user = cs.managed_clusters.list_cluster_user_credentials(group, cluster_name)
    admin_creds = cs.managed_clusters.list_cluster_admin_credentials(group, cluster_name)
    kubeconfig = bytes(user.kubeconfigs[0].value).decode()
    out["cluster"] = {
        "id": created.id, "provisioningState": created.provisioning_state, "fqdn": created.fqdn,
        "issuer": created.oidc_issuer_profile.issuer_url, "principalId": created.identity.principal_id,
        "userKubeconfig": "clusters:" in kubeconfig and created.fqdn in kubeconfig,
        "adminKubeconfig": "client-certificate-data" in bytes(admin_creds.kubeconfigs[0].value).decode(),
        "kubeconfigNames": [k.name for k in user.kubeconfigs + admin_creds.kubeconfigs],
    }

    # DefaultAzureCredential's principal is a Reader: it reads the cluster
    # and cannot change the group.
    dcs = way.client(ContainerServiceClient, default)
    out["defaultReadsCluster"] = dcs.managed_clusters.get(group, cluster_name).provisioning_state
    drm = way.client(ResourceManagementClient, default)
    out["defaultWrites"] = status_of(lambda: drm.resource_groups.update(group, {"tags": {"by": "reader"}}))

    # ManagedServiceIdentityClient: an identity (Microsoft.ManagedIdentity is
    # not registered: azure-mgmt-core registers it and retries), Reader on
    # the group, trusting the cluster's service accounts.
    msi = way.client(ManagedServiceIdentityClient, admin)
    ident = msi.user_assigned_identities.create_or_update(group, identity_name, {"location": "westus2"})
    assign(auth, scope, READER, ident.principal_id)
    fic_client = way.client(ManagedServiceIdentityClient, admin, api_version="2022-01-31-preview")
    fic = fic_client.federated_identity_credentials.create_or_update(
        group, identity_name, "kubernetes", {"issuer": out["cluster"]["issuer"], "subject": env("PY_SUBJECT"),
                                             "audiences": ["api://AzureADTokenExchange"]})
    out["identity"] = {"id": ident.id, "clientId": ident.client_id, "principalId": ident.principal_id,
                       "federatedIssuer": fic.issuer}
    return out


def read_group(way, cred):
    rm = way.client(ResourceManagementClient, cred)
    return rm.resource_groups.get(env("PY_GROUP")).name


def workload_phase(way):
    out = {}
    wic = getattr(azure.identity, "WorkloadIdentityCredential", None)
    if wic is not None:
        cred, out["credential"] = wic(), "WorkloadIdentityCredential"
    else:
        # azure-identity 1.13.0b2: ManagedIdentityCredential exchanges the
        # federated token when AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID
        # and AZURE_AUTHORITY_HOST are set.
        cred, out["credential"] = ManagedIdentityCredential(), "ManagedIdentityCredential (token exchange)"
    out["workload"] = tokens(cred)
    out["workloadReadsGroup"] = read_group(way, cred)
    # DefaultAzureCredential in the pod: no secret, so the same exchange.
    default = DefaultAzureCredential(exclude_shared_token_cache_credential=True, exclude_cli_credential=True,
                                     exclude_powershell_credential=True)
    out["default"] = tokens(default)
    out["defaultReadsGroup"] = read_group(way, default)
    return out


def imds_phase(way):
    out = {}
    mi = ManagedIdentityCredential(client_id=env("AZURE_CLIENT_ID"))
    out["managedIdentity"] = tokens(mi)
    out["managedIdentityReadsGroup"] = read_group(way, mi)
    default = DefaultAzureCredential(exclude_shared_token_cache_credential=True, exclude_cli_credential=True,
                                     exclude_powershell_credential=True)
    out["default"] = tokens(default)
    out["defaultReadsGroup"] = read_group(way, default)
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("proxy", "direct") or sys.argv[2] not in ("main", "workload", "imds"):
        raise SystemExit(__doc__)
    way = Way(sys.argv[1])
    phase = {"main": main_phase, "workload": workload_phase, "imds": imds_phase}[sys.argv[2]]
    try:
        out = phase(way)
    except Exception as e:  # pylint: disable=broad-except
        traceback.print_exc()
        if isinstance(e, HttpResponseError) and e.response is not None:
            req = e.response.request
            print("request: %s %s" % (req.method, req.url), file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
