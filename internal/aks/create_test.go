package aks

import (
	"testing"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/store/sqlite"
)

// TestPutRefusesBodiesNotShapedAsClusters: a null body (which once
// panicked on a nil map) and properties, identity or tags that are not
// objects are 400 InvalidRequestContent, never a cluster with defaults.
func TestPutRefusesBodiesNotShapedAsClusters(t *testing.T) {
	st, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Deps{Store: st, Clock: clock.NewVirtual(clock.Wall{}, 0)})
	for name, body := range map[string]map[string]any{
		"null body":            nil,
		"string properties":    {"location": "westus2", "properties": "x"},
		"boolean properties":   {"location": "westus2", "properties": true},
		"array properties":     {"location": "westus2", "properties": []any{}},
		"string identity":      {"location": "westus2", "identity": "SystemAssigned"},
		"number tags":          {"location": "westus2", "tags": 7.0},
		"properties, no place": {"properties": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Put(t.Context(), PutRequest{TenantID: "t", Sub: "s", Group: "rg", Name: "c", Body: body})
			if e, ok := azerr.As(err); !ok || e.Kind != azerr.Invalid || e.Code != "InvalidRequestContent" {
				t.Fatalf("got %v", err)
			}
		})
	}
	if err := CheckBody(map[string]any{"location": "westus2", "properties": nil, "tags": nil}); err != nil {
		t.Fatalf("null members are absent members: %v", err)
	}
}
