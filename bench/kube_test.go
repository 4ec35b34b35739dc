package bench

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/apiserver"
)

// BenchmarkKubectlGetNodes times the docs' last line on a warm machine
// (kube-apiserver built, as `make test` leaves it): from `az aks create`
// returning to the first `kubectl get nodes` that answers, get-credentials
// included; and from the first connection to a cluster whose API server
// stopped when idle. It reads the memory of what aksid runs beside itself
// (each cluster's kube-apiserver and the etcd they share) with one cluster
// running, per running cluster with three running, and with every server
// idle. Per running cluster is proportional (PSS): the binary's pages and
// etcd are shared by every cluster's server, and a sum of RSS would count
// them once per process. Targets: <= 2 s each way, <= 200 MB per running
// cluster, 0 MB idle.
func BenchmarkKubectlGetNodes(b *testing.B) {
	for _, tool := range []string{"az", "kubectl"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s is not installed: `make test` installs it", tool)
		}
	}
	bin, _ := built(b)
	dir := b.TempDir()
	// Long enough for three clusters to be created and read together.
	const idle = 15 * time.Second
	p, err := startBinary(bin, dir, 30*time.Second, "--kube-idle", idle.String())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.stop() }()
	env, vars := adminEnv(b, bin, dir)
	kc := filepath.Join(b.TempDir(), "config")
	env = append(env, "KUBECONFIG="+kc)
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil && name == "az" {
			b.Fatalf("az %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return err
	}
	run("az", "login", "--service-principal", "-u", vars["AZURE_CLIENT_ID"], "-p", vars["AZURE_CLIENT_SECRET"], "--tenant", vars["AZURE_TENANT_ID"], "-o", "none")
	run("az", "group", "create", "-n", "bench", "-l", "westus2", "-o", "none")
	run("az", "provider", "register", "-n", "Microsoft.ContainerService")
	getNodes := func(since time.Time) time.Duration {
		for time.Since(since) < 2*time.Minute {
			if run("kubectl", "get", "nodes") == nil {
				return time.Since(since)
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.Fatal("kubectl get nodes never answered")
		return 0
	}
	run("az", "aks", "create", "-g", "bench", "-n", "c1", "--generate-ssh-keys", "-o", "none")
	created := time.Now()
	run("az", "aks", "get-credentials", "-g", "bench", "-n", "c1", "--admin")
	afterCreate := getNodes(created)
	one := sideMemory(b, p.cmd.Process.Pid)
	const clusters = 3
	for i := 2; i <= clusters; i++ {
		name := "c" + strconv.Itoa(i)
		run("az", "aks", "create", "-g", "bench", "-n", name, "--generate-ssh-keys", "-o", "none")
		run("az", "aks", "get-credentials", "-g", "bench", "-n", name, "--admin")
		getNodes(time.Now())
	}
	many := sideMemory(b, p.cmd.Process.Pid)
	if many.servers != clusters {
		b.Fatalf("%d API servers running beside aksid, want %d", many.servers, clusters)
	}

	// Idle: every server stops; then the next connection starts it again.
	deadline := time.Now().Add(idle + time.Minute)
	for sideMemory(b, p.cmd.Process.Pid).rss > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	idleMB := sideMemory(b, p.cmd.Process.Pid).rss
	onDemand := getNodes(time.Now())

	b.ReportMetric(afterCreate.Seconds(), "create-to-nodes-s")
	b.ReportMetric(onDemand.Seconds(), "first-connection-s")
	perCluster := many.pss / clusters
	b.ReportMetric(one.rss, "MB-one-cluster-rss")
	b.ReportMetric(many.rss/clusters, "MB/cluster-rss-sum")
	b.ReportMetric(perCluster, "MB/running-cluster")
	b.ReportMetric(idleMB, "MB-idle")
	b.Logf("az aks create → kubectl get nodes %.2fs; after an idle stop %.2fs; beside aksid: %.0f MB RSS with one cluster running; with %d running %.0f MB PSS per cluster (RSS summed per process: %.0f MB per cluster); %.0f MB idle",
		afterCreate.Seconds(), onDemand.Seconds(), one.rss, clusters, perCluster, many.rss/clusters, idleMB)
	atMost(b, "seconds from az aks create to kubectl get nodes", afterCreate.Seconds(), 2)
	atMost(b, "seconds from first connection to kubectl get nodes", onDemand.Seconds(), 2)
	atMost(b, "MB beside aksid per running cluster (PSS, three running)", perCluster, 200)
	atMost(b, "MB beside aksid when idle", idleMB, 0)
}

// side is the memory, in MB, of what aksid runs beside itself.
type side struct {
	rss, pss float64 // summed over the processes
	servers  int     // kube-apiservers among them
}

// sideMemory reads pid's child processes (each cluster's kube-apiserver
// and the etcd they share).
func sideMemory(b *testing.B, pid int) side {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	var m side
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state, ppid, …
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		rollup, err := os.ReadFile("/proc/" + e.Name() + "/smaps_rollup")
		if err != nil {
			continue
		}
		if strings.Contains(string(st), "(kube-apiserver") {
			m.servers++
		}
		m.rss += kbField(rollup, "Rss:") / 1024
		m.pss += kbField(rollup, "Pss:") / 1024
	}
	return m
}

// kbField reads a "Name:   123 kB" line of a /proc file.
func kbField(text []byte, name string) float64 {
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

// BenchmarkKubeAPIServerBuild times building kube-apiserver from the
// module aksid carries, as aksid does at a cluster's first need when
// `make deps` has not: with this machine's Go build cache as it is (warm
// after `make test`; a cold build took 4 min 10 s wall here). A figure to
// watch, with no target: it is paid once per machine and release.
func BenchmarkKubeAPIServerBuild(b *testing.B) {
	out := filepath.Join(b.TempDir(), "kube-apiserver")
	start := time.Now()
	if err := apiserver.Build(b.Context(), out, io.Discard); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	st, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(d.Seconds(), "build-s")
	b.ReportMetric(float64(st.Size())/1e6, "binary-MB")
	b.Logf("kube-apiserver built in %.1fs (Go build cache as found), %.0f MB", d.Seconds(), float64(st.Size())/1e6)
}
