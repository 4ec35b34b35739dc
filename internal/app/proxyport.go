package app

import (
	"net"
	"net/http"
)

// listenPlain opens the plain-HTTP proxy port ("" means any free loopback
// port; "off" none).
func listenPlain(addr string) (net.Listener, error) {
	switch addr {
	case "off":
		return nil, nil
	case "":
		addr = "127.0.0.1:0"
	}
	if err := requireLoopback(addr); err != nil {
		return nil, err
	}
	return net.Listen("tcp", addr)
}

func plainURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return "http://" + ln.Addr().String()
}

// noIdentity is the managed-identity endpoint's answer while no identity
// is bound to the calling host, as IMDS answers on a VM without one.
// (Managed identities come with the AKS and sign-in milestones.)
func noIdentity(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Header.Get("Metadata") != "true" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Required metadata header not specified"}`))
		return
	}
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Identity not found"}`))
}
