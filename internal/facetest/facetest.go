// Package facetest holds what the faces' tests share: stand-ins for the listener, which faces do not import.
package facetest

import "net/http"

// RequestID is the x-ms-request-id WithRequestID gives every response.
const RequestID = "f00dfeed-0000-4000-8000-000000000001"

// WithRequestID stands in for the server middleware: it gives the
// response its x-ms-request-id, which a face's error writer logs.
func WithRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-request-id", RequestID)
		h.ServeHTTP(w, r)
	})
}
