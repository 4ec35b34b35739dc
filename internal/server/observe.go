package server

import (
	"net"
	"sync"
	"sync/atomic"
)

// Observer receives what the listener measures; the metrics registry
// implements it. Its methods must be cheap and safe for concurrent use.
type Observer interface {
	// Request is one answered request: the face that served it (login,
	// arm, graph, imds, oidc, kubeapi, admin), its status and, for an
	// error answer, the Azure error code its body carries (AADSTS7000215,
	// Request_ResourceNotFound, AuthorizationFailed; empty otherwise).
	// The code comes from the body: the observer must bound what it keeps.
	Request(face string, status int, code string)
	// Tunnels changes the number of open proxy tunnels by delta.
	Tunnels(delta int)
}

// observer holds the Observer set after the server was built.
type observer struct{ p atomic.Pointer[Observer] }

func (o *observer) get() Observer {
	if o == nil {
		return nil
	}
	if p := o.p.Load(); p != nil {
		return *p
	}
	return nil
}

// SetObserver makes the server report requests and tunnels to o.
func (s *Server) SetObserver(o Observer) { s.obs.p.Store(&o) }

// counted is a tunnel connection that reports its close once.
type counted struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *counted) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

// faceRecorder lets the router name the face that served a request to the
// middleware's recorder.
type faceRecorder interface{ setFace(string) }

func (s *statusRecorder) setFace(f string) { s.face = f }

// labelFace tells w's recorder, if any, which face serves the request.
func labelFace(w any, face string) {
	if fr, ok := w.(faceRecorder); ok {
		fr.setFace(face)
	}
}
