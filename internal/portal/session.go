package portal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Sessions keeps signed-in browsers where every replica reads them, so a
// session survives a restart and any replica behind a balancer serves
// it. It holds only sealed records: see seal.
type Sessions interface {
	// Get returns a session's sealed record, or ErrNoSession.
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, ends time.Time, sealed []byte) error
	Delete(ctx context.Context, key string) error
	// Sweep deletes the sessions that ended before now and counts the rest.
	Sweep(ctx context.Context, now time.Time) (live int, err error)
}

// ErrNoSession is Sessions.Get's answer for a key it does not hold.
var ErrNoSession = errors.New("portal: no such session")

// session is one signed-in browser. Only its random ID leaves the server,
// in the cookie; the record stored under a hash of it is sealed with a
// key derived from it, so the store alone opens no session and its
// refresh token.
type session struct {
	id string // the cookie's value

	mu         sync.Mutex
	ends       time.Time // on the wall clock, as the cookie's
	csrf, name string
	refresh    string                 // the newest: each works once
	tokens     map[string]bearerToken // by scope, in this replica's memory only
}

type bearerToken struct {
	token   string
	expires time.Time // on the wall clock, as tokens keep wall time
}

// record is what a session's sealed record holds.
type record struct {
	Ends    time.Time `json:"ends"`
	CSRF    string    `json:"csrf"`
	Name    string    `json:"name"`
	Refresh string    `json:"refresh"`
}

// storeKey is the session's key in the store: a hash of its ID, which
// the store never sees.
func storeKey(id string) string {
	sum := sha256.Sum256([]byte("aksid portal session id\x00" + id))
	return hex.EncodeToString(sum[:])
}

func sessionAEAD(id string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(id), nil, "aksid portal session record", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts a session's record with AES-GCM under a key derived
// from its ID (a 130-bit random text), bound to its store key.
func seal(id string, r record) ([]byte, error) {
	aead, err := sessionAEAD(id)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte(storeKey(id))), nil
}

func open(id string, sealed []byte) (record, error) {
	var r record
	aead, err := sessionAEAD(id)
	if err != nil {
		return r, err
	}
	if len(sealed) < aead.NonceSize() {
		return r, errors.New("portal: a sealed session record is too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(storeKey(id)))
	if err != nil {
		return r, err
	}
	return r, json.Unmarshal(plain, &r)
}

// keep takes a token answer (the caller holds s.mu).
func (s *session) keep(a api, t tokenAnswer) {
	s.tokens[a.scope] = bearerToken{t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}
	if t.RefreshToken != "" {
		s.refresh = t.RefreshToken
	}
}

// forget drops a token the API refused.
func (s *session) forget(a api) {
	s.mu.Lock()
	delete(s.tokens, a.scope)
	s.mu.Unlock()
}

// save writes the session's record (the caller holds s.mu).
func (h *Handler) save(ctx context.Context, s *session) error {
	sealed, err := seal(s.id, record{Ends: s.ends, CSRF: s.csrf, Name: s.name, Refresh: s.refresh})
	if err != nil {
		return err
	}
	return h.o.Sessions.Put(ctx, storeKey(s.id), s.ends, sealed)
}

// load reads the session named by a cookie's value from the store, into
// this replica's cached copy (which keeps its access tokens); nil when
// the store no longer holds it (signed out anywhere) or it ended.
func (h *Handler) load(ctx context.Context, id string) (*session, error) {
	sealed, err := h.o.Sessions.Get(ctx, storeKey(id))
	if errors.Is(err, ErrNoSession) {
		h.uncache(id)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := open(id, sealed)
	if err != nil || time.Now().After(r.Ends) {
		h.uncache(id)
		return nil, nil // a record that does not open (or ended) is no session
	}
	h.mu.Lock()
	s := h.cache[id]
	if s == nil {
		if len(h.cache) >= maxCached {
			clear(h.cache) // a cache: tokens are fetched again
		}
		s = &session{id: id, tokens: map[string]bearerToken{}}
		h.cache[id] = s
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.ends, s.csrf, s.name, s.refresh = r.Ends, r.CSRF, r.Name, r.Refresh
	s.mu.Unlock()
	return s, nil
}

func (h *Handler) uncache(id string) {
	h.mu.Lock()
	delete(h.cache, id)
	h.mu.Unlock()
}
