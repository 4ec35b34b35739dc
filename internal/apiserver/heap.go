package apiserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// An API server's Go memory limit. 120 MiB keeps an idle server with no
// custom resources at ~185 MB RSS (~250 MB without a limit), its GC at
// ~1 run a minute. Below it (100 MiB) a server with no CRD thrashes: 143
// runs a minute, 17% of a core. The live heap grows with CRDs: measured,
// ten with 1.4 MB of schema took it from 66 to 87 MB, and restarted at
// 120 MiB that server's GC ran 173 times a minute at rest (26% of a
// core); at 140 MiB twice (1.7%). So a running server's live heap is
// recorded in the cluster's directory, by the idle sweep (every heapEvery
// at most: a scrape renders all of kube-apiserver's metrics) and at an
// idle or asked-for stop, and the next start sets the limit at least
// heapHeadroom above it: the base limit's own margin over a heap with no
// CRD (63 MiB), so such a cluster stays at the base.
const (
	baseMemoryLimit = 120 << 20
	heapHeadroom    = 56 << 20
	liveHeapFile    = "heap-live"
	heapEvery       = 2 * time.Minute
)

// recordHeaps records the live heap of each running server in ins not
// recorded for heapEvery by the Supervisor's clock. It reads outside the
// instance's lock, which every connection to the cluster takes.
func (s *Supervisor) recordHeaps(ins []*instance, now time.Time) {
	for _, in := range ins {
		in.mu.Lock()
		ep := in.ep
		due := in.p != nil && in.p.exited() == nil && now.Sub(in.heapAt) >= heapEvery
		if due {
			in.heapAt = now
		}
		in.mu.Unlock()
		if due {
			s.recordHeap(in.id, ep)
		}
	}
}

// recordHeap records the live heap of the cluster's server at ep.
func (s *Supervisor) recordHeap(id string, ep *Endpoint) {
	if err := recordLiveHeap(context.Background(), ep, s.clusterDir(id)); err != nil {
		s.cfg.Log.Warn("kube-apiserver's live heap not recorded", "cluster", id, "err", err)
	}
}

// limitAfterStart asks kube-apiserver as aksid builds it to apply
// GOMEMLIMIT only once its stdin closes (proc.started), at readiness: the
// start runs ~0.5 CPU-s quicker without it (tools/kube-apiserver).
const limitAfterStart = "AKSID_GOMEMLIMIT_AFTER_START"

// memoryLimit is the GOMEMLIMIT setting for the cluster whose directory
// is dir, from the live heap its last run recorded.
func memoryLimit(dir string) string {
	limit := int64(baseMemoryLimit)
	if b, err := os.ReadFile(filepath.Join(dir, liveHeapFile)); err == nil {
		if live, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && live > 0 {
			limit = max(limit, live+heapHeadroom)
		}
	}
	return fmt.Sprintf("GOMEMLIMIT=%dMiB", (limit+(1<<20)-1)>>20)
}

// recordLiveHeap reads the server's live heap from its metrics and keeps
// it in dir for the next start's limit.
func recordLiveHeap(ctx context.Context, ep *Endpoint, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := ep.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("apiserver: metrics: %s", resp.Status)
	}
	live, err := liveHeap(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, liveHeapFile), []byte(strconv.FormatInt(live, 10)+"\n"), 0o600)
}

// liveHeap finds go_gc_heap_live_bytes (the heap marked live by the last
// GC) in a Prometheus text exposition.
func liveHeap(metrics io.Reader) (int64, error) {
	f, err := metricValue(metrics, "go_gc_heap_live_bytes")
	if err == nil && f <= 0 {
		err = fmt.Errorf("apiserver: metrics: go_gc_heap_live_bytes %v", f)
	}
	return int64(f), err
}

// metricValue finds an unlabelled metric's value in a Prometheus text
// exposition.
func metricValue(metrics io.Reader, name string) (float64, error) {
	sc := bufio.NewScanner(metrics)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), name+" ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("apiserver: metrics: %s %q", name, v)
		}
		return f, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("apiserver: metrics: no %s", name)
}
