package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aksid/aksid/internal/store/postgres/pgtest"
)

const (
	replicaRounds = 4               // each figure is measured in this many interleaved slices
	replicaSlice  = 2 * time.Second // each slice, or $AKSID_BENCH_PHASE
	replicaGroup  = "bench-replicas"
)

// replicaSliceLen is one measured slice: replicaSlice or $AKSID_BENCH_PHASE
// (a Go duration), shorter while developing.
func replicaSliceLen(tb testing.TB) time.Duration {
	if v := os.Getenv("AKSID_BENCH_PHASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			tb.Fatalf("AKSID_BENCH_PHASE=%q", v)
		}
		return d
	}
	return replicaSlice
}

// replicaSet is one configuration: its replicas, and per replica a token
// client and an ARM client holding a token that replica issued (a token
// carries its issuer's URL, which the other replica refuses).
type replicaSet struct {
	name     string
	key      string // in the reported metrics' units
	pgPort   string // the PostgreSQL behind it, "" for SQLite
	procs    []*proc
	tokens   []*client
	arms     []*bearerClient
	groupURL []string // per replica, the resource group each decision reads
	next     atomic.Uint64
	tok, dec replicaFigure
}

// replicaFigure adds up one workload's slices.
type replicaFigure struct {
	n                     int64
	wall, srv, pg, client time.Duration
	busy, total           int64 // machine-wide jiffies: busy, all
}

func (f *replicaFigure) rate() float64 { return float64(f.n) / f.wall.Seconds() }

// perReq is CPU milliseconds per request.
func (f *replicaFigure) perReq(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond) / float64(f.n)
}

func (f *replicaFigure) busyPct() float64 { return 100 * float64(f.busy) / float64(f.total) }

// BenchmarkReplicas compares one aksid on SQLite, one on PostgreSQL and
// two replicas on one PostgreSQL database and one data directory, in
// interleaved slices of one run: client-credentials tokens/s and ARM
// authorization decisions/s (GET of a resource group, with a bearer token
// of the bootstrap admin), 4 workers spread round-robin over the
// replicas, with the servers' CPU (and PostgreSQL's) per request. The
// phases run for a fixed time whatever b.N is.
func BenchmarkReplicas(b *testing.B) {
	slice := replicaSliceLen(b)
	bin, _ := built(b)
	pg, err := pgtest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pg.Stop)
	newDB := func() string {
		u, err := pg.NewDatabase(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		return u
	}
	sets := []*replicaSet{
		startReplicas(b, bin, "SQLite, 1 replica", "sqlite", "", 1),
		startReplicas(b, bin, "PostgreSQL, 1 replica", "pg1", newDB(), 1),
		startReplicas(b, bin, "PostgreSQL, 2 replicas", "pg2", newDB(), 2),
	}
	for _, s := range sets {
		if _, _, err := hammer(workers, warmup, s.token); err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
		if _, _, err := hammer(workers, warmup, s.decide); err != nil {
			b.Fatalf("%s: %v", s.name, err)
		}
	}
	// Interleaved slices, so load from elsewhere weighs on every
	// configuration alike.
	for range replicaRounds {
		for _, s := range sets {
			s.measure(b, &s.tok, slice, s.token)
			s.measure(b, &s.dec, slice, s.decide)
		}
	}

	// Nine lines: go test keeps the first ten of a benchmark's log
	// unless -v.
	title := fmt.Sprintf("%%s, %d×%v, %d workers", replicaRounds, slice, workers)
	for _, w := range []struct {
		what string
		f    func(*replicaSet) *replicaFigure
	}{{"tokens", func(s *replicaSet) *replicaFigure { return &s.tok }}, {"decisions", func(s *replicaSet) *replicaFigure { return &s.dec }}} {
		b.Logf("%-28s %8s %13s %16s %14s %13s", fmt.Sprintf(title, w.what), "per s", "aksid CPU-ms", "postgres CPU-ms", "client CPU-ms", "machine busy")
		for _, s := range sets {
			f := w.f(s)
			pgMS := "-"
			if s.pgPort != "" {
				pgMS = fmt.Sprintf("%.3f", f.perReq(f.pg))
			}
			b.Logf("%-28s %8.0f %13.3f %16s %14.3f %12.0f%%", s.name, f.rate(), f.perReq(f.srv), pgMS, f.perReq(f.client), f.busyPct())
		}
	}
	sq, pg1, pg2 := sets[0], sets[1], sets[2]
	ratios := []struct {
		unit string
		r    float64
	}{
		{"pg/sqlite-tokens", pg1.tok.rate() / sq.tok.rate()},
		{"pg/sqlite-decisions", pg1.dec.rate() / sq.dec.rate()},
		{"2/1-tokens", pg2.tok.rate() / pg1.tok.rate()},
		{"2/1-decisions", pg2.dec.rate() / pg1.dec.rate()},
	}
	b.Logf("PostgreSQL ÷ SQLite (1 replica): tokens %.2f, decisions %.2f; 2 replicas ÷ 1 (PostgreSQL): tokens %.2f, decisions %.2f",
		ratios[0].r, ratios[1].r, ratios[2].r, ratios[3].r)
	b.ReportMetric(0, "ns/op")
	for _, s := range sets {
		b.ReportMetric(s.tok.rate(), s.key+"-tokens/s")
		b.ReportMetric(s.dec.rate(), s.key+"-decisions/s")
	}
	for _, r := range ratios {
		b.ReportMetric(r.r, r.unit)
	}
}

// startReplicas starts n `aksid serve` on one fresh data directory (and
// storeURL, if any), creates the resource group through the first and
// fetches each replica's clients.
func startReplicas(b *testing.B, bin, name, key, storeURL string, n int) *replicaSet {
	b.Helper()
	dataDir := filepath.Join(b.TempDir(), "data")
	var extra []string
	s := &replicaSet{name: name, key: key}
	if storeURL != "" {
		extra = []string{"--store", storeURL}
		u, err := url.Parse(storeURL)
		if err != nil {
			b.Fatal(err)
		}
		s.pgPort = u.Port()
	}
	for range n {
		p, err := startBinary(bin, dataDir, 2*time.Minute, extra...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := p.stop(); err != nil {
				b.Error(err)
			}
		})
		s.procs = append(s.procs, p)
	}
	creds := binaryCreds(b, dataDir)
	sub := "/subscriptions/" + dataDirEnv(b, dataDir)["AKSID_SUBSCRIPTION_ID"]
	caPath := filepath.Join(dataDir, "ca.pem")
	for _, p := range s.procs {
		s.tokens = append(s.tokens, newClient(b, p.url, caPath, creds))
		s.arms = append(s.arms, newBearerClient(b, p.url, caPath, creds, armScope))
		s.groupURL = append(s.groupURL, p.url+sub+"/resourcegroups/"+replicaGroup+"?api-version=2021-04-01")
	}
	req, err := http.NewRequestWithContext(b.Context(), http.MethodPut, s.groupURL[0], strings.NewReader(`{"location":"eastus"}`))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.arms[0].token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.arms[0].http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: creating the resource group: HTTP %d: %s", name, resp.StatusCode, body)
	}
	return s
}

// token asks the next replica for a client-credentials token.
func (s *replicaSet) token(ctx context.Context) error {
	return s.tokens[s.next.Add(1)%uint64(len(s.tokens))].token(ctx)
}

// decide asks the next replica for the resource group: one RBAC decision
// (Microsoft.Resources/subscriptions/resourceGroups/read) and two reads.
func (s *replicaSet) decide(ctx context.Context) error {
	i := s.next.Add(1) % uint64(len(s.arms))
	return s.arms[i].get(ctx, s.groupURL[i])
}

// measure runs one slice of op and adds it to f, with the CPU the
// replicas, PostgreSQL, this client and the whole machine spent.
func (s *replicaSet) measure(b *testing.B, f *replicaFigure, d time.Duration, op func(context.Context) error) {
	b.Helper()
	srv0, pg0, cli0 := s.srvCPU(b), s.pgCPU(b), selfCPU()
	busy0, total0 := machineJiffies(b)
	n, wall, err := hammer(workers, d, op)
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	busy1, total1 := machineJiffies(b)
	f.n += n
	f.wall += wall
	f.srv += s.srvCPU(b) - srv0
	f.pg += s.pgCPU(b) - pg0
	f.client += selfCPU() - cli0
	f.busy += busy1 - busy0
	f.total += total1 - total0
}

// srvCPU is the replicas' CPU time, summed.
func (s *replicaSet) srvCPU(b *testing.B) time.Duration {
	var sum time.Duration
	for _, p := range s.procs {
		t, err := p.cpuTime()
		if err != nil {
			b.Fatal(err)
		}
		sum += t
	}
	return sum
}

// pgCPU is the CPU time of the PostgreSQL server behind the set: the
// postmaster (the leader of its process group, as pgtest starts it), its
// children (backends call setsid, so only their parent tells them) and
// those it has reaped; 0 for SQLite. It is the whole server's, so the
// other configuration's idle replicas count too (little).
func (s *replicaSet) pgCPU(b *testing.B) time.Duration {
	if s.pgPort == "" {
		return 0
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		b.Fatal(err)
	}
	type stat struct{ ppid, ticks int64 }
	all := map[int64]stat{}
	leader := int64(-1)
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.ParseInt(filepath.Base(filepath.Dir(path)), 10, 64)
		ppid, _ := strconv.ParseInt(f[1], 10, 64)
		pgrp, _ := strconv.ParseInt(f[2], 10, 64)
		var ticks int64
		for _, v := range f[11:15] { // utime, stime, cutime, cstime
			t, _ := strconv.ParseInt(v, 10, 64)
			ticks += t
		}
		all[pid] = stat{ppid, ticks}
		if pid == pgrp && leader < 0 && bytes.Contains(raw[:i], []byte("(postgres")) {
			if cmd, err := os.ReadFile(filepath.Join(filepath.Dir(path), "cmdline")); err == nil &&
				bytes.Contains(cmd, []byte("\x00-p\x00"+s.pgPort+"\x00")) {
				leader = pid
			}
		}
	}
	if leader < 0 {
		b.Fatalf("no postgres postmaster on port %s", s.pgPort)
	}
	var ticks int64
	for pid, st := range all {
		if pid == leader || st.ppid == leader {
			ticks += st.ticks
		}
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// machineJiffies is the whole machine's busy and total CPU time from
// /proc/stat (busy: all but idle and iowait), in USER_HZ ticks.
func machineJiffies(b *testing.B) (busy, total int64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		b.Fatalf("unexpected /proc/stat: %q", line)
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest times are already in user and nice
			break
		}
		t, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		total += t
		if i != 3 && i != 4 { // idle, iowait
			busy += t
		}
	}
	return busy, total
}
