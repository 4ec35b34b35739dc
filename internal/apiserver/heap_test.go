package apiserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimitFollowsTheLastLiveHeap(t *testing.T) {
	dir := t.TempDir()
	if got := memoryLimit(dir); got != "GOMEMLIMIT=120MiB" {
		t.Fatalf("no record: %s, want the base limit", got)
	}
	metrics := "# HELP go_gc_heap_live_bytes Heap memory occupied by live objects.\n" +
		"# TYPE go_gc_heap_live_bytes gauge\ngo_gc_heap_live_bytes 8.7310952e+07\ngo_goroutines 1208\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, metrics)
	}))
	defer srv.Close()
	ep := &Endpoint{URL: srv.URL, Client: srv.Client()}
	if err := recordLiveHeap(t.Context(), ep, dir); err != nil {
		t.Fatal(err)
	}
	// 87,310,952 bytes live + 56 MiB, rounded up to whole MiB.
	if got := memoryLimit(dir); got != "GOMEMLIMIT=140MiB" {
		t.Fatalf("after a heap of 87 MB: %s, want GOMEMLIMIT=140MiB", got)
	}

	// A cluster with no CRD (a 66 MB heap) stays at the base.
	metrics = "go_gc_heap_live_bytes 6.58e+07\n"
	if err := recordLiveHeap(t.Context(), ep, dir); err != nil {
		t.Fatal(err)
	}
	if got := memoryLimit(dir); got != "GOMEMLIMIT=120MiB" {
		t.Fatalf("after a heap of 66 MB (no CRD): %s, want the base limit", got)
	}

	// Metrics without the gauge, or a record that is not a number, leave
	// the base limit.
	metrics = "go_goroutines 12\n"
	if err := recordLiveHeap(t.Context(), ep, dir); err == nil {
		t.Fatal("metrics without go_gc_heap_live_bytes: no error")
	}
	if err := os.WriteFile(filepath.Join(dir, liveHeapFile), []byte("lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := memoryLimit(dir); got != "GOMEMLIMIT=120MiB" {
		t.Fatalf("unreadable record: %s, want the base limit", got)
	}
}
