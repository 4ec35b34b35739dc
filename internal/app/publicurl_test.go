package app

import "testing"

func TestPublicURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://127.0.0.1:9443":  "https://127.0.0.1:9443",
		"https://localhost:9443/": "https://localhost:9443",
		"https://[::1]:9443":      "https://[::1]:9443",
	} {
		if got, err := publicURL(raw); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"http://127.0.0.1:9443", "https://127.0.0.1", "https://example.com:443",
		"https://10.0.0.1:9443", "https://127.0.0.1:9443/path", "https://u:p@127.0.0.1:9443", "127.0.0.1:9443"} {
		if got, err := publicURL(bad); err == nil {
			t.Errorf("%s accepted as %q", bad, got)
		}
	}
}
