package app

import (
	"context"
	"strings"
	"testing"

	"github.com/aksid/aksid/internal/keyring"
	"github.com/aksid/aksid/internal/store/sqlite"
)

func TestStoreKind(t *testing.T) {
	for in, want := range map[string]string{"": "sqlite", "postgres://u@h/db": "postgres", "postgresql://h/db": "postgres"} {
		if got, err := storeKind(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	_, err := storeKind("mysql://u:hunter2@h/db")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("an unknown store is refused without showing its password: %v", err)
	}
	if d := storeDescription("", false, "postgres://u:hunter2@h/db"); strings.Contains(d, "hunter2") {
		t.Fatalf("the banner shows the password: %s", d)
	}
}

// The first start seals a canary with the master key; a later start with
// the same key opens it, one with another key is refused.
func TestCheckStoreKey(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mine, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := keyring.Random()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := checkStoreKey(ctx, st, mine); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkStoreKey(ctx, st, theirs); err == nil || !strings.Contains(err.Error(), "another master key") {
		t.Fatalf("another key: %v", err)
	}
}
