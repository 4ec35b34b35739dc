// Package workloadidentity decides what AKS's workload identity webhook adds to a new pod: the Azure SDKs' environment and a projected service-account token for Entra's token exchange.
//
// The rules are those of the azure-workload-identity webhook as AKS
// deploys it (release 1.x): a pod labelled azure.workload.identity/use
// gets, in every container it does not skip, AZURE_CLIENT_ID (the service
// account's client-id annotation), AZURE_TENANT_ID (its tenant-id
// annotation, else the cluster's tenant), AZURE_FEDERATED_TOKEN_FILE and
// AZURE_AUTHORITY_HOST, each only where the container does not set it
// already, and a read-only mount of the volume azure-identity-token, a
// service-account token for api://AzureADTokenExchange.
package workloadidentity

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The names the webhook reads and writes.
const (
	UseLabel                 = "azure.workload.identity/use"
	ClientIDAnnotation       = "azure.workload.identity/client-id"
	TenantIDAnnotation       = "azure.workload.identity/tenant-id"
	ExpirationAnnotation     = "azure.workload.identity/service-account-token-expiration"
	SkipContainersAnnotation = "azure.workload.identity/skip-containers"

	VolumeName     = "azure-identity-token"
	MountPath      = "/var/run/secrets/azure/tokens"
	TokenPath      = "azure-identity-token"
	TokenFile      = MountPath + "/" + TokenPath
	Audience       = "api://AzureADTokenExchange"
	AuthorityHost  = "https://login.microsoftonline.com/"
	minExpiration  = 3600
	maxExpiration  = 86400
	defaultExpires = 3600
)

// Op is one JSON Patch (RFC 6902) operation, as an admission webhook
// answers.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// InvalidError is a pod or service account the webhook refuses; its text
// is what kubectl shows.
type InvalidError struct{ msg string }

func (e *InvalidError) Error() string { return e.msg }

// Pod is a pod being created, kept as the API server sent it so that
// fields this package does not know pass through untouched.
type Pod struct {
	meta map[string]any
	spec map[string]any
}

// ParsePod reads a pod object (JSON).
func ParsePod(b []byte) (*Pod, error) {
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return nil, &InvalidError{"the object is not a pod"}
	}
	spec, _ := obj["spec"].(map[string]any)
	if spec == nil {
		return nil, &InvalidError{"the pod has no spec"}
	}
	meta, _ := obj["metadata"].(map[string]any)
	return &Pod{meta: meta, spec: spec}, nil
}

// ServiceAccount is the service account the pod runs as: "default" when
// it names none, as Kubernetes assigns.
func (p *Pod) ServiceAccount() string {
	if sa, _ := p.spec["serviceAccountName"].(string); sa != "" {
		return sa
	}
	return "default"
}

// Patch is what the webhook does to the pod, given its service account's
// annotations and the cluster's tenant.
func (p *Pod) Patch(sa map[string]string, clusterTenant string) ([]Op, error) {
	expires, err := p.expiration(sa)
	if err != nil {
		return nil, err
	}
	tenant, ok := sa[TenantIDAnnotation]
	if !ok {
		tenant = clusterTenant
	}
	env := []map[string]any{
		{"name": "AZURE_CLIENT_ID", "value": sa[ClientIDAnnotation]},
		{"name": "AZURE_TENANT_ID", "value": tenant},
		{"name": "AZURE_FEDERATED_TOKEN_FILE", "value": TokenFile},
		{"name": "AZURE_AUTHORITY_HOST", "value": AuthorityHost},
	}
	mount := map[string]any{"name": VolumeName, "mountPath": MountPath, "readOnly": true}
	skip := p.skipped()
	var ops []Op
	for _, list := range []string{"initContainers", "containers"} {
		containers, _ := p.spec[list].([]any)
		for i, c := range containers {
			c, _ := c.(map[string]any)
			if c == nil || skip[str(c["name"])] {
				continue
			}
			at := fmt.Sprintf("/spec/%s/%d", list, i)
			ops = append(ops, addEnv(at, c, env)...)
			ops = append(ops, put(at+"/volumeMounts", c["volumeMounts"], mount)...)
		}
	}
	volume := map[string]any{"name": VolumeName, "projected": map[string]any{"sources": []any{
		map[string]any{"serviceAccountToken": map[string]any{"path": TokenPath, "expirationSeconds": expires, "audience": Audience}},
	}}}
	return append(ops, put("/spec/volumes", p.spec["volumes"], volume)...), nil
}

// expiration is the projected token's lifetime: the pod's annotation,
// else the service account's, else an hour; between 1 and 24 hours.
func (p *Pod) expiration(sa map[string]string) (int64, error) {
	v := str(p.annotations()[ExpirationAnnotation])
	if v == "" {
		v = sa[ExpirationAnnotation]
	}
	if v == "" {
		return defaultExpires, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, &InvalidError{fmt.Sprintf("%s: %q is not a number of seconds", ExpirationAnnotation, v)}
	}
	if n < minExpiration || n > maxExpiration {
		return 0, &InvalidError{fmt.Sprintf("token expiration %d not valid. Expected value to be between %d and %d", n, minExpiration, maxExpiration)}
	}
	return n, nil
}

// skipped are the containers the pod's skip-containers annotation names
// (separated by semicolons).
func (p *Pod) skipped() map[string]bool {
	skip := map[string]bool{}
	for _, name := range strings.Split(str(p.annotations()[SkipContainersAnnotation]), ";") {
		if name = strings.TrimSpace(name); name != "" {
			skip[name] = true
		}
	}
	return skip
}

func (p *Pod) annotations() map[string]any {
	a, _ := p.meta["annotations"].(map[string]any)
	return a
}

// addEnv adds the variables the container lacks, leaving those it sets
// (even to another value) and those with no value to give.
func addEnv(at string, c map[string]any, want []map[string]any) []Op {
	have := map[string]bool{}
	cur, _ := c["env"].([]any)
	for _, e := range cur {
		if e, ok := e.(map[string]any); ok {
			have[str(e["name"])] = true
		}
	}
	var add []any
	for _, e := range want {
		if !have[str(e["name"])] && str(e["value"]) != "" {
			add = append(add, e)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if _, ok := c["env"].([]any); !ok {
		return []Op{{Op: "add", Path: at + "/env", Value: add}}
	}
	ops := make([]Op, 0, len(add))
	for _, e := range add {
		ops = append(ops, Op{Op: "add", Path: at + "/env/-", Value: e})
	}
	return ops
}

// put sets item in the named list at path: replacing an entry of the same
// name (a second call of the webhook), else appending, else making the list.
func put(path string, list any, item map[string]any) []Op {
	items, ok := list.([]any)
	if !ok {
		return []Op{{Op: "add", Path: path, Value: []any{item}}}
	}
	for i, it := range items {
		if it, ok := it.(map[string]any); ok && str(it["name"]) == str(item["name"]) {
			return []Op{{Op: "replace", Path: fmt.Sprintf("%s/%d", path, i), Value: item}}
		}
	}
	return []Op{{Op: "add", Path: path + "/-", Value: item}}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// IsInvalid tells whether err is a refusal of the pod (not a failure).
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}
