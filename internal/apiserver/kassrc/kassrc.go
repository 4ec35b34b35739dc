// Package kassrc carries the source of the kube-apiserver build module (tools/kube-apiserver) inside aksid, so aksid can build it from any directory.
package kassrc

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
)

// A module's files cannot be embedded from another module, so these are
// copies of tools/kube-apiserver's; a test keeps them equal.
//
//go:generate sh -c "cp ../../../tools/kube-apiserver/go.mod go.mod.txt && cp ../../../tools/kube-apiserver/go.sum go.sum.txt && cp ../../../tools/kube-apiserver/main.go main.go.txt"

//go:embed go.mod.txt
var goMod []byte

//go:embed go.sum.txt
var goSum []byte

//go:embed main.go.txt
var mainGo []byte

// Files maps each file name of the module to its content.
func Files() map[string][]byte {
	return map[string][]byte{"go.mod": goMod, "go.sum": goSum, "main.go": mainGo}
}

var kubeVersion = regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/kubernetes\s+(v[0-9.]+)\s*$`)

// Version is the Kubernetes release the module builds, read from its
// go.mod so the version is written in one place.
func Version() (string, error) {
	m := kubeVersion.FindSubmatch(goMod)
	if m == nil {
		return "", errors.New("kassrc: go.mod requires no k8s.io/kubernetes version")
	}
	return string(m[1]), nil
}

// Digest names the module's content (its files, in name order) in 8 hex
// digits, so that a binary built from other files, at the same release,
// is not taken for this one.
func Digest() string {
	files := Files()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n + "\x00"))
		h.Write(files[n])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}
