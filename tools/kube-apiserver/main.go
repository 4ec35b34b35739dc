// Command kube-apiserver is the Kubernetes project's own API server,
// built from the k8s.io/kubernetes module so aksid's clusters answer with
// the real thing. It is a module of its own, outside aksid's build: aksid
// builds it on first need (internal/apiserver) and `make deps` ahead.
package main

import (
	"io"
	"math"
	"os"
	"runtime/debug"
	_ "time/tzdata" // CronJob time zones, as upstream's main

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// limitAfterStart is set by aksid, which closes the server's stdin once
// it is ready.
const limitAfterStart = "AKSID_GOMEMLIMIT_AFTER_START"

func main() {
	if os.Getenv(limitAfterStart) != "" {
		deferMemoryLimit()
	}
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}

// deferMemoryLimit lifts GOMEMLIMIT until stdin closes. A start allocates
// several times the heap it keeps (OpenAPI documents, storage for every
// resource); under the limit that suits the server at rest, the GC runs
// back to back meanwhile, a fifth of the start's CPU. An upstream build
// ignores the variable and keeps the limit throughout.
func deferMemoryLimit() {
	limit := debug.SetMemoryLimit(math.MaxInt64)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // until EOF: aksid closed it, or exited
		debug.SetMemoryLimit(limit)
		// The start's garbage goes back to the system now, not over the
		// minutes the background scavenger would take.
		debug.FreeOSMemory()
	}()
}
