package storetest

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/aksid/aksid/internal/store"
)

// RunTwoProcesses runs the test binary twice more as child processes
// that increment one counter alongside this process, each on its own
// handle of the database named by where; none may lose an update. The
// calling test must be the one the children run: it passes env's value
// to open as where when it is set. open must arrange the store's cleanup.
func RunTwoProcesses(t *testing.T, env, where string, open func(t *testing.T, where string) store.Store) {
	const each = 100
	if w := os.Getenv(env); w != "" {
		s := open(t, w)
		for range each {
			if err := incrementCounter(t.Context(), s); err != nil {
				t.Fatalf("child: %v", err)
			}
		}
		return
	}
	s := open(t, where)
	var wg sync.WaitGroup
	for range 2 {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+t.Name()+"$")
		cmd.Env = append(os.Environ(), env+"="+where)
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child: %v\n%s", err, out)
			}
		})
	}
	for range each {
		if err := incrementCounter(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	var c counter
	view(t, s, func(_ context.Context, tx store.Tx) error { return store.GetJSON(tx, kind, "counter", &c) })
	if c.N != 3*each {
		t.Errorf("counter = %d, want %d", c.N, 3*each)
	}
}
