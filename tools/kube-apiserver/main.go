// Command kube-apiserver is the Kubernetes project's own API server,
// built from the k8s.io/kubernetes module so aksid's clusters answer with
// the real thing. It is a module of its own, outside aksid's build: aksid
// builds it on first need (internal/apiserver) and `make deps` ahead.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream's main

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
