package e2e

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlSigningKeyRotation: `az aks oidc-issuer rotate-signing-keys`,
// as AKS's OIDC issuer doc runs it. The cluster's API server signs new
// tokens with the new key; a token of the old key is still accepted by
// the API server and by Entra (the issuer publishes both keys) for 24
// hours; after `aksid clock advance 25h` the issuer publishes the new key
// alone, the API server refuses the old token and Entra's exchange fails
// with AADSTS50013 naming its key, while the new token works throughout.
func TestKubectlSigningKeyRotation(t *testing.T) {
	t.Parallel()
	in := start(t, "")
	k := newKubeShell(t, in)
	k.ok(`az login --service-principal -u "$AKSID_ADMIN_CLIENT_ID" -p "$AKSID_ADMIN_CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
az group create -n keys-rg -l eastus -o none
az aks create -g keys-rg -n keys --enable-oidc-issuer --node-count 1 --generate-ssh-keys -o none
az aks get-credentials -g keys-rg -n keys --admin
az identity create -g keys-rg -n app -o none
az identity federated-credential create -g keys-rg --identity-name app -n kube --issuer "$(az aks show -g keys-rg -n keys --query oidcIssuerProfile.issuerUrl -o tsv)" --subject system:serviceaccount:default:app --audiences api://AzureADTokenExchange -o none
kubectl create serviceaccount app`)
	issuer := k.ok(`az aks show -g keys-rg -n keys --query oidcIssuerProfile.issuerUrl -o tsv`)
	clientID := k.ok(`az identity show -g keys-rg -n app --query clientId -o tsv`)
	dir := t.TempDir()

	// tokens are the API server's tokens for the service account: one for
	// the API server itself, one for Entra, as workload identity's webhook
	// projects it; kidOf names the key that signed them.
	type tokens struct{ api, entra string }
	newTokens := func(name string) tokens {
		t.Helper()
		tk := tokens{filepath.Join(dir, name+"-api"), filepath.Join(dir, name+"-entra")}
		k.ok(`kubectl create token app --duration 48h > ` + tk.api + `
kubectl create token app --audience api://AzureADTokenExchange --duration 48h > ` + tk.entra)
		return tk
	}
	kidOf := func(path string) string {
		t.Helper()
		tok := k.ok(`cat ` + path)
		hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Kid string }
		if err := json.Unmarshal(hdr, &h); err != nil || h.Kid == "" {
			t.Fatalf("token header %s: %v", hdr, err)
		}
		return h.Kid
	}
	published := func() string {
		t.Helper()
		return k.ok(`curl -sf "` + issuer + `openid/v1/jwks" | python3 -c 'import json,sys; print(" ".join(k["kid"] for k in json.load(sys.stdin)["keys"]))'`)
	}
	// whoami signs in to the API server with the token alone.
	whoami := func(path string) (string, string, error) {
		t.Helper()
		out, stderr, err := k.run(`kubectl config set-credentials sa --token="$(cat ` + path + `)" >/dev/null
kubectl auth whoami --user sa -o jsonpath='{.status.userInfo.username}'`)
		return strings.TrimSpace(out), stderr, err
	}
	// exchange is kubelogin's workloadidentity login: Entra takes the
	// token as the identity's federated credential.
	exchange := func(path string) (string, error) {
		t.Helper()
		_, stderr, err := k.run(`KUBECACHEDIR="$(mktemp -d)" AZURE_CLIENT_ID=` + clientID + ` AZURE_FEDERATED_TOKEN_FILE=` + path + ` kubelogin get-token --login workloadidentity --server-id ` + aksServerApp + ` >/dev/null`)
		return stderr, err
	}
	const account = "system:serviceaccount:default:app"

	old := newTokens("old")
	kid1 := kidOf(old.api)
	if got := published(); got != kid1 || kidOf(old.entra) != kid1 {
		t.Fatalf("issuer keys before rotation: %q, want %s", got, kid1)
	}
	k.ok(`az aks oidc-issuer rotate-signing-keys -g keys-rg -n keys --yes`)
	current := newTokens("new")
	kid2 := kidOf(current.api)
	if kid2 == kid1 || kidOf(current.entra) != kid2 {
		t.Fatal("the API server still signs with the old key after the rotation")
	}
	if got := published(); got != kid2+" "+kid1 {
		t.Fatalf("issuer keys after rotation: %q, want %s %s", got, kid2, kid1)
	}
	for _, tk := range []tokens{old, current} {
		if user, stderr, err := whoami(tk.api); err != nil || user != account {
			t.Fatalf("the API server on %s: %q %v\n%s", filepath.Base(tk.api), user, err, stderr)
		}
		if stderr, err := exchange(tk.entra); err != nil {
			t.Fatalf("Entra on %s: %v\n%s", filepath.Base(tk.entra), err, stderr)
		}
	}

	// A day on, the old key is gone from the issuer, the API server and,
	// at once, Entra, whose cache of the issuer's keys ages on aksid's
	// clock.
	in.aksid(t, "clock", "advance", "25h")
	if got := published(); got != kid2 {
		t.Fatalf("issuer keys a day after rotation: %q, want %s", got, kid2)
	}
	if _, stderr, err := whoami(old.api); err == nil || !strings.Contains(stderr, "Unauthorized") {
		t.Fatalf("the API server a day on, the old token: %v\n%s", err, stderr)
	}
	if user, stderr, err := whoami(current.api); err != nil || user != account {
		t.Fatalf("the API server a day on, the new token: %q %v\n%s", user, err, stderr)
	}
	if stderr, err := exchange(old.entra); err == nil || !strings.Contains(stderr, "AADSTS50013") || !strings.Contains(stderr, kid1) {
		t.Fatalf("Entra a day on, the old token: %v\n%s", err, stderr)
	}
	if stderr, err := exchange(current.entra); err != nil {
		t.Fatalf("Entra a day on, the new token: %v\n%s", err, stderr)
	}
}
