package bench

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkAzAKSCreate times `az aks create` end to end against aksid
// beside `az group create` in the same run (both through the proxy, az's
// own start-up included): aksid's share of a cluster create is small
// when the ratio stays near 1 (target <= 1.5).
func BenchmarkAzAKSCreate(b *testing.B) {
	if _, err := exec.LookPath("az"); err != nil {
		b.Fatal("az is not installed: `make test` installs it")
	}
	bin, _ := built(b)
	dir := b.TempDir()
	p, err := startBinary(bin, dir, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.stop() }()
	env, vars := adminEnv(b, bin, dir)
	az := func(args ...string) time.Duration {
		start := time.Now()
		cmd := exec.Command("az", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("az %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return time.Since(start)
	}
	az("login", "--service-principal", "-u", vars["AZURE_CLIENT_ID"], "-p", vars["AZURE_CLIENT_SECRET"], "--tenant", vars["AZURE_TENANT_ID"], "-o", "none")
	az("group", "create", "-n", "bench", "-l", "westus2", "-o", "none")
	az("provider", "register", "-n", "Microsoft.ContainerService")
	const rounds = 3
	var groups, clusters []time.Duration
	for i := range rounds {
		n := string(rune('a' + i))
		groups = append(groups, az("group", "create", "-n", "g"+n, "-l", "westus2", "-o", "none"))
		clusters = append(clusters, az("aks", "create", "-g", "bench", "-n", "c"+n, "--enable-managed-identity", "--generate-ssh-keys", "-o", "none"))
	}
	slices.Sort(groups)
	slices.Sort(clusters)
	g, c := groups[rounds/2], clusters[rounds/2]
	ratio := c.Seconds() / g.Seconds()
	b.ReportMetric(g.Seconds(), "group-create-s")
	b.ReportMetric(c.Seconds(), "aks-create-s")
	b.ReportMetric(ratio, "aks/group")
	b.Logf("median of %d: az group create %.2fs, az aks create %.2fs", rounds, g.Seconds(), c.Seconds())
	atMost(b, "ratio aks create/group create", ratio, 1.5)
}

// adminEnv is `aksid env --as-admin` for dataDir as a process environment
// (with PATH and a fresh HOME) and as variables.
func adminEnv(b *testing.B, bin, dataDir string) ([]string, map[string]string) {
	out, err := exec.Command(bin, "env", "--as-admin", "--data-dir", dataDir).Output()
	if err != nil {
		b.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.Trim(v, "'")
			vars[k] = v
			env = append(env, k+"="+v)
		}
	}
	return env, vars
}
