package server

import (
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/origin"
)

// Router sends a request to a face by its first path segment, compared
// case-insensitively as Azure does (ARM takes "/Subscriptions" too), and
// everything else to Default (the login face and the admin endpoints).
// Faces own disjoint path roots, so their routes never collide.
//
// Before routing it records the request's origin (origin.FromContext),
// which every face reads instead of asking the listener.
type Router struct {
	roots    map[string]http.Handler
	rootFace map[string]string       // the face a root belongs to, for metrics
	faces    map[string]http.Handler // requests through the proxy, by face
	origins  func(*http.Request) origin.Origin
	Default  http.Handler
}

// NewRouter returns a router that falls back to def, for the aksid
// announced at canonical (its https:// URL).
func NewRouter(def http.Handler, canonical string) *Router {
	return &Router{roots: map[string]http.Handler{}, rootFace: map[string]string{}, faces: map[string]http.Handler{}, origins: Origins(canonical), Default: def}
}

// Handle routes every path whose first segment is root to h, which serves
// face (named so in metrics).
func (rt *Router) Handle(root, face string, h http.Handler) {
	rt.roots[strings.ToLower(root)] = h
	rt.rootFace[strings.ToLower(root)] = face
}

// HandleFace routes requests that came through the proxy for a host of
// face (FaceLogin, FaceARM, FaceGraph, FaceIMDS) to h.
func (rt *Router) HandleFace(face string, h http.Handler) {
	rt.faces[face] = h
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(origin.NewContext(r.Context(), rt.origins(r)))
	if th := TunnelHost(r); th != "" {
		face := AzureFace(th)
		if th == imdsHost {
			face = FaceIMDS
		}
		if h, ok := rt.faces[face]; ok {
			labelFace(w, face)
			h.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	first := strings.TrimLeft(r.URL.Path, "/")
	if i := strings.IndexByte(first, '/'); i >= 0 {
		first = first[:i]
	}
	if h, ok := rt.roots[strings.ToLower(first)]; ok {
		labelFace(w, rt.rootFace[strings.ToLower(first)])
		h.ServeHTTP(w, r)
		return
	}
	face := FaceLogin
	switch strings.ToLower(first) {
	case "aksid":
		face = "admin"
	case "healthz", "readyz":
		face = "ops" // the operator's probes, not Entra's
	}
	labelFace(w, face)
	rt.Default.ServeHTTP(w, r)
}
