package workloadidentity

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

const tenant = "22e5b5db-8b5f-42f5-80ec-f411e716d348"

// walk follows a JSON pointer's parts from doc.
func walk(doc any, parts []string) any {
	for _, p := range parts {
		switch c := doc.(type) {
		case map[string]any:
			doc = c[p]
		case []any:
			i, _ := strconv.Atoi(p)
			doc = c[i]
		}
	}
	return doc
}

// apply is a JSON Patch applier for the ops Patch makes (add, with "-"
// or at the end of a path, and replace), as kube-apiserver applies them.
func apply(t *testing.T, doc map[string]any, ops []Op) map[string]any {
	t.Helper()
	for _, op := range ops {
		b, _ := json.Marshal(op.Value)
		var v any
		_ = json.Unmarshal(b, &v)
		parts := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
		last := parts[len(parts)-1]
		switch c := walk(doc, parts[:len(parts)-1]).(type) {
		case map[string]any:
			if _, exists := c[last]; exists && op.Op == "add" {
				t.Fatalf("add over an existing member %s", op.Path)
			}
			c[last] = v
		case []any:
			switch {
			case op.Op == "add" && last == "-":
				// A grown list is re-seated in its own parent.
				walk(doc, parts[:len(parts)-2]).(map[string]any)[parts[len(parts)-2]] = append(c, v)
			case op.Op == "replace":
				i, _ := strconv.Atoi(last)
				c[i] = v
			default:
				t.Fatalf("unexpected op %+v", op)
			}
		default:
			t.Fatalf("no parent for %s", op.Path)
		}
	}
	return doc
}

func mutate(t *testing.T, pod string, sa map[string]string) map[string]any {
	t.Helper()
	p, err := ParsePod([]byte(pod))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := p.Patch(sa, tenant)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.Unmarshal([]byte(pod), &doc)
	return apply(t, doc, ops)
}

func envOf(c any) map[string]string {
	out := map[string]string{}
	env, _ := c.(map[string]any)["env"].([]any)
	for _, e := range env {
		e := e.(map[string]any)
		out[e["name"].(string)] = str(e["value"])
	}
	return out
}

func mountsOf(c any) []any {
	m, _ := c.(map[string]any)["volumeMounts"].([]any)
	return m
}

func TestPodGetsEnvironmentAndToken(t *testing.T) {
	pod := `{"metadata":{"name":"p","labels":{"azure.workload.identity/use":"true"},
	  "annotations":{"azure.workload.identity/skip-containers":"sidecar"}},
	 "spec":{"serviceAccountName":"wi-sa","futureField":{"kept":true},
	  "initContainers":[{"name":"init","image":"busybox"}],
	  "containers":[
	   {"name":"app","image":"busybox","env":[{"name":"AZURE_CLIENT_ID","value":"mine"},{"name":"OTHER","value":"x"}],
	    "volumeMounts":[{"name":"data","mountPath":"/data"}]},
	   {"name":"sidecar","image":"busybox"}],
	  "volumes":[{"name":"data","emptyDir":{}}]}}`
	sa := map[string]string{ClientIDAnnotation: "41ffc042-a960-4e2f-8fa2-5e243120c6f6"}
	got := mutate(t, pod, sa)
	spec := got["spec"].(map[string]any)
	if spec["futureField"] == nil {
		t.Fatal("a field unknown to the webhook was lost")
	}

	app := spec["containers"].([]any)[0]
	if env := envOf(app); env["AZURE_CLIENT_ID"] != "mine" || env["OTHER"] != "x" || env["AZURE_TENANT_ID"] != tenant ||
		env["AZURE_FEDERATED_TOKEN_FILE"] != "/var/run/secrets/azure/tokens/azure-identity-token" ||
		env["AZURE_AUTHORITY_HOST"] != "https://login.microsoftonline.com/" || len(env) != 5 {
		t.Fatalf("app env %v: the container's own AZURE_CLIENT_ID stays, the rest is added", env)
	}
	if m := mountsOf(app); len(m) != 2 || m[1].(map[string]any)["mountPath"] != MountPath || m[1].(map[string]any)["readOnly"] != true {
		t.Fatalf("app mounts %v", m)
	}
	init := spec["initContainers"].([]any)[0]
	if env := envOf(init); env["AZURE_CLIENT_ID"] != sa[ClientIDAnnotation] || len(env) != 4 {
		t.Fatalf("init container env %v", env)
	}
	sidecar := spec["containers"].([]any)[1]
	if len(envOf(sidecar)) != 0 || len(mountsOf(sidecar)) != 0 {
		t.Fatalf("a skipped container was changed: %v", sidecar)
	}
	vols := spec["volumes"].([]any)
	if len(vols) != 2 {
		t.Fatalf("volumes %v", vols)
	}
	tok := vols[1].(map[string]any)["projected"].(map[string]any)["sources"].([]any)[0].(map[string]any)["serviceAccountToken"].(map[string]any)
	if tok["audience"] != Audience || tok["expirationSeconds"] != float64(3600) || tok["path"] != TokenPath {
		t.Fatalf("token projection %v", tok)
	}
}

func TestSecondCallChangesNothingTwice(t *testing.T) {
	pod := `{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}`
	sa := map[string]string{ClientIDAnnotation: "c1", TenantIDAnnotation: "other-tenant"}
	once := mutate(t, pod, sa)
	b, _ := json.Marshal(once)
	twice := mutate(t, string(b), sa)
	spec := twice["spec"].(map[string]any)
	c := spec["containers"].([]any)[0]
	if env := envOf(c); len(env) != 4 || env["AZURE_TENANT_ID"] != "other-tenant" {
		t.Fatalf("env after two calls %v", env)
	}
	if len(mountsOf(c)) != 1 || len(spec["volumes"].([]any)) != 1 {
		t.Fatalf("mount or volume doubled: %v", spec)
	}
}

func TestNoClientIDLeavesItOut(t *testing.T) {
	got := mutate(t, `{"metadata":{},"spec":{"containers":[{"name":"c"}]}}`, nil)
	env := envOf(got["spec"].(map[string]any)["containers"].([]any)[0])
	if _, ok := env["AZURE_CLIENT_ID"]; ok || env["AZURE_TENANT_ID"] != tenant {
		t.Fatalf("env %v: no client ID to give, the cluster's tenant", env)
	}
}

func TestExpiration(t *testing.T) {
	for _, tc := range []struct {
		pod, sa string
		want    float64
		refused string
	}{
		{"", "", 3600, ""},
		{"", "7200", 7200, ""},
		{"86400", "7200", 86400, ""}, // the pod's annotation wins
		{"3599", "", 0, "token expiration 3599 not valid"},
		{"", "86401", 0, "token expiration 86401 not valid"},
		{"soon", "", 0, `"soon" is not a number`},
	} {
		ann := map[string]any{}
		if tc.pod != "" {
			ann[ExpirationAnnotation] = tc.pod
		}
		b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}, "spec": map[string]any{"containers": []any{map[string]any{"name": "c"}}}})
		p, _ := ParsePod(b)
		sa := map[string]string{}
		if tc.sa != "" {
			sa[ExpirationAnnotation] = tc.sa
		}
		ops, err := p.Patch(sa, tenant)
		if tc.refused != "" {
			if !IsInvalid(err) || !strings.Contains(err.Error(), tc.refused) {
				t.Fatalf("pod %q sa %q: err %v, want %q", tc.pod, tc.sa, err, tc.refused)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.Unmarshal(b, &doc)
		vols := apply(t, doc, ops)["spec"].(map[string]any)["volumes"].([]any)
		tok := vols[0].(map[string]any)["projected"].(map[string]any)["sources"].([]any)[0].(map[string]any)["serviceAccountToken"].(map[string]any)
		if tok["expirationSeconds"] != tc.want {
			t.Fatalf("pod %q sa %q: %v, want %v", tc.pod, tc.sa, tok["expirationSeconds"], tc.want)
		}
	}
}

func TestNotAPod(t *testing.T) {
	for _, b := range []string{`[]`, `{"metadata":{}}`, `nope`} {
		if _, err := ParsePod([]byte(b)); !IsInvalid(err) {
			t.Fatalf("%s: %v", b, err)
		}
	}
	p, _ := ParsePod([]byte(`{"spec":{}}`))
	if p.ServiceAccount() != "default" {
		t.Fatal(p.ServiceAccount())
	}
}
