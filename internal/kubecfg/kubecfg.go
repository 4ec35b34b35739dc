// Package kubecfg rewrites kubeconfig files so that kubelogin and kubectl reach aksid directly.
package kubecfg

import (
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"
)

// noAuthority are kubelogin modes that never talk to an authority
// themselves: msi asks the managed-identity endpoint, azurecli asks az.
var noAuthority = []string{"msi", "azurecli"}

// AddAuthority gives every kubelogin exec user in a kubeconfig the
// arguments for reaching aksid directly: --authority-host (which must end
// in "/") and --disable-instance-discovery. `kubelogin convert-kubeconfig`
// drops both, so this runs after it. Other content is kept.
func AddAuthority(in []byte, authorityHost string) (Rewrite, error) {
	if authorityHost == "" || authorityHost[len(authorityHost)-1] != '/' {
		return Rewrite{}, fmt.Errorf("kubecfg: authority host %q must end in /", authorityHost)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return Rewrite{}, fmt.Errorf("kubecfg: %w", err)
	}
	users, _ := doc["users"].([]any)
	changed := 0
	for _, u := range users {
		exec := dig(u, "user", "exec")
		if exec == nil || exec["command"] != "kubelogin" {
			continue
		}
		raw, _ := exec["args"].([]any)
		args := make([]string, 0, len(raw)+3)
		for _, a := range raw {
			s, ok := a.(string)
			if !ok {
				return Rewrite{}, fmt.Errorf("kubecfg: a kubelogin argument is not a string: %v", a)
			}
			args = append(args, s)
		}
		if len(args) == 0 || args[0] != "get-token" || slices.Contains(noAuthority, valueOf(args, "--login", "-l")) {
			continue
		}
		args = withAuthority(args, authorityHost)
		out := make([]any, len(args))
		for i, a := range args {
			out[i] = a
		}
		exec["args"] = out
		changed++
	}
	b, err := yaml.Marshal(doc)
	return Rewrite{Config: b, Users: changed}, err
}

// Rewrite is a rewritten kubeconfig and how many of its users
// (AddAuthority) or clusters (PointServers) now reach aksid.
type Rewrite struct {
	Config   []byte
	Users    int
	Clusters int
}

// withAuthority drops earlier authority arguments and appends aksid's.
func withAuthority(args []string, host string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--disable-instance-discovery" || a == "--disable-instance-discovery=true":
		case a == "--authority-host":
			i++ // and its value
		case len(a) > len("--authority-host=") && a[:len("--authority-host=")] == "--authority-host=":
		default:
			out = append(out, a)
		}
	}
	return append(out, "--authority-host", host, "--disable-instance-discovery")
}

func valueOf(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if len(a) > len(n)+1 && a[:len(n)+1] == n+"=" {
				return a[len(n)+1:]
			}
		}
	}
	return ""
}

func dig(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}
