package httpjson

import (
	"context"
	"io"
	"testing"
)

func TestNewRequest(t *testing.T) {
	req, err := NewRequest(context.Background(), "PUT", "https://x.test/a", map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(req.Body)
	if string(b) != `{"n":1}` || req.Header.Get("Content-Type") != "application/json" || req.Method != "PUT" {
		t.Fatalf("%s %q %v", req.Method, b, req.Header)
	}
	req, err = NewRequest(context.Background(), "GET", "https://x.test/a", nil)
	if err != nil || req.Body != nil || req.Header.Get("Content-Type") != "" {
		t.Fatalf("no body: %v %v %v", err, req.Body, req.Header)
	}
	if _, err := NewRequest(context.Background(), "PUT", "https://x.test/a", func() {}); err == nil {
		t.Fatal("a body that is no JSON was sent")
	}
}
