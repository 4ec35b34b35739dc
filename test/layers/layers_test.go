// Package layers checks DESIGN.md's layering against the code: faces never
// import each other or the listener, the listener imports no face, and
// domain packages never import net/http.
package layers

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/aksid/aksid/internal/"

// faces are the HTTP adapters; each reads what it needs of the request
// (its origin) from internal/origin, never from another face.
var faces = []string{"admin", "arm", "graph", "iamapi", "imds", "kubeapi", "login", "oidcissuer", "portal"}

// listener routes to the faces and must not depend on any of them.
const listener = "server"

// httpAllowed are the packages that may speak HTTP: the faces, the
// listener, the assembly, the cloud provider (an HTTP client of ARM, as
// cloud-provider-azure is), apiserver (a client of the API servers and
// etcd it runs, to see them ready and to delete a cluster's data),
// kubeplane (a client of those API servers, writing nodes, bindings and
// service status as a controller does), facetest (the faces' tests'
// stand-in for the listener) and httpjson (those clients' JSON requests).
var httpAllowed = append([]string{listener, "app", "cloudprovider", "apiserver", "kubeplane", "facetest", "httpjson"}, faces...)

type pkg struct {
	ImportPath string
	Imports    []string
}

func internalPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "../../internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d internal packages; expected the whole tree", len(pkgs))
	}
	return pkgs
}

// short is the package's path under internal/ ("store/sqlite"), or "".
func short(path string) string {
	if !strings.HasPrefix(path, module) {
		return ""
	}
	return strings.TrimPrefix(path, module)
}

func TestFacesImportNoFaceAndListenerImportsNone(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range internalPackages(t) {
		name := short(p.ImportPath)
		seen[name] = true
		isFace := slices.Contains(faces, name)
		if !isFace && name != listener {
			continue
		}
		for _, imp := range p.Imports {
			dep := short(imp)
			switch {
			case isFace && slices.Contains(faces, dep):
				t.Errorf("face %s imports face %s", name, dep)
			case isFace && dep == listener:
				t.Errorf("face %s imports the listener", name)
			case name == listener && slices.Contains(faces, dep):
				t.Errorf("the listener imports face %s", dep)
			}
		}
	}
	for _, f := range append([]string{listener}, faces...) {
		if !seen[f] {
			t.Errorf("package %s not found: update this test's list of faces", f)
		}
	}
}

func TestDomainPackagesDoNotImportNetHTTP(t *testing.T) {
	for _, p := range internalPackages(t) {
		name := short(p.ImportPath)
		if slices.Contains(httpAllowed, name) {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
				t.Errorf("domain package %s imports %s", name, imp)
			}
		}
	}
}
