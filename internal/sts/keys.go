package sts

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/rsasign"
	"github.com/aksid/aksid/internal/store"
	"github.com/go-jose/go-jose/v4"
)

// Sealer encrypts private keys at rest.
type Sealer interface {
	Seal(label string, plaintext []byte) ([]byte, error)
	Open(label string, sealed []byte) ([]byte, error)
}

const (
	kindKeys   = "sts_keys"
	keysDocKey = "signing"
	sealLabel  = "sts-signing-key"

	stateNext    = "next"
	stateCurrent = "current"
	stateRetired = "retired"
)

// keyDoc is the stored key set. The next key is published in JWKS one
// period before it signs, so replicas that refresh less often than they
// rotate never see a token whose key they do not publish.
type keyDoc struct {
	Generation int64       `json:"generation"`
	Keys       []storedKey `json:"keys"`
}

type storedKey struct {
	Kid         string    `json:"kid"`
	State       string    `json:"state"`
	Created     time.Time `json:"created"`
	Activated   time.Time `json:"activated,omitzero"`
	VerifyUntil time.Time `json:"verifyUntil,omitzero"`
	CertDER     []byte    `json:"certDer"`
	SealedKey   []byte    `json:"sealedKey"`
}

// KeyOptions tune rotation.
type KeyOptions struct {
	// Period between rotations of the signing key.
	Period time.Duration
	// Retain is how long a retired key stays published: the longest token
	// lifetime plus clock skew, so every token it signed can still verify.
	Retain time.Duration
	// Bits of the RSA keys (2048, as Entra).
	Bits int
	// Backend signs (rsasign.Go when unset).
	Backend rsasign.Backend
	// NewKey makes a signing key; unset, a new random RSA key of Bits.
	// Test servers started by the dozen (aksidtest) pass fixed keys:
	// generating one costs ~100 ms on a small machine.
	NewKey func() (*rsa.PrivateKey, error)
}

// Keys manages the signing keys: it keeps the parsed signer and the JWKS
// document in memory, so the token path never reads keys from the store.
type Keys struct {
	st   store.Store
	seal Sealer
	clk  clock.Clock // token frame (wall)
	opts KeyOptions

	cur    atomic.Pointer[keySet]
	rotate sync.Mutex // one rotation attempt at a time in this process
}

type keySet struct {
	generation int64
	kid        string
	x5t        string
	signer     jose.Signer
	jwks       []byte
	public     map[string]*rsa.PublicKey
}

// NewKeys returns a key manager; call Load before use.
func NewKeys(st store.Store, seal Sealer, wall clock.Clock, opts KeyOptions) *Keys {
	if opts.Bits == 0 {
		opts.Bits = 2048
	}
	if opts.Period <= 0 {
		opts.Period = 24 * time.Hour
	}
	if opts.Retain <= 0 {
		opts.Retain = 25 * time.Hour
	}
	if opts.Backend == "" {
		opts.Backend = rsasign.Go
	}
	return &Keys{st: st, seal: seal, clk: wall, opts: opts}
}

// Load makes sure a key set exists, rotates it if due and caches it.
func (k *Keys) Load(ctx context.Context) error {
	if _, err := k.RotateIfDue(ctx); err != nil {
		return err
	}
	return k.Refresh(ctx)
}

func (k *Keys) read(ctx context.Context) (keyDoc, error) {
	var doc keyDoc
	err := k.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindKeys, keysDocKey, &doc)
	})
	if errors.Is(err, store.ErrNotFound) {
		return keyDoc{}, nil
	}
	return doc, err
}

func (k *Keys) due(doc keyDoc, now time.Time) bool {
	cur := doc.find(stateCurrent)
	return cur == nil || doc.find(stateNext) == nil || !now.Before(cur.Activated.Add(k.opts.Period))
}

// RotateIfDue rotates when the current key has served its period. Like a
// compare-and-swap it decides, generates keys outside the transaction,
// then decides again inside it, so concurrent replicas rotate once.
func (k *Keys) RotateIfDue(ctx context.Context) (bool, error) {
	return k.rotateWhen(ctx, k.due)
}

// Rotate rotates now, whatever the schedule.
func (k *Keys) Rotate(ctx context.Context) error {
	doc, err := k.read(ctx)
	if err != nil {
		return err
	}
	seen := doc.Generation
	_, err = k.rotateWhen(ctx, func(d keyDoc, _ time.Time) bool { return d.Generation == seen })
	return err
}

func (k *Keys) rotateWhen(ctx context.Context, decide func(keyDoc, time.Time) bool) (bool, error) {
	k.rotate.Lock()
	defer k.rotate.Unlock()
	doc, err := k.read(ctx)
	if err != nil {
		return false, err
	}
	if !decide(doc, k.clk.Now()) {
		return false, nil
	}
	// Generate outside the transaction: RSA key generation takes long.
	fresh := make([]storedKey, 0, 2)
	need := 1
	if doc.find(stateNext) == nil && doc.find(stateCurrent) == nil {
		need = 2
	}
	for range need {
		sk, err := k.generate()
		if err != nil {
			return false, err
		}
		fresh = append(fresh, sk)
	}
	rotated := false
	err = k.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var latest keyDoc
		if err := store.GetJSON(tx, kindKeys, keysDocKey, &latest); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := k.clk.Now()
		rotated = false
		if !decide(latest, now) {
			return nil // another replica rotated first
		}
		latest.advance(fresh, now, k.opts.Retain)
		rotated = true
		return store.PutJSON(tx, kindKeys, keysDocKey, latest)
	})
	if err != nil || !rotated {
		return false, err
	}
	return true, k.Refresh(ctx)
}

// advance retires the current key, promotes the next one and adds fresh
// keys as next; keys whose tokens have all expired are dropped.
func (d *keyDoc) advance(fresh []storedKey, now time.Time, retain time.Duration) {
	kept := d.Keys[:0:0]
	for _, key := range d.Keys {
		switch key.State {
		case stateCurrent:
			key.State = stateRetired
			key.VerifyUntil = now.Add(retain)
		case stateNext:
			key.State = stateCurrent
			key.Activated = now
		}
		if key.State == stateRetired && !now.Before(key.VerifyUntil) {
			continue
		}
		kept = append(kept, key)
	}
	for _, f := range fresh {
		if (&keyDoc{Keys: kept}).find(stateCurrent) == nil {
			f.State, f.Activated = stateCurrent, now
		} else {
			f.State = stateNext
		}
		kept = append(kept, f)
	}
	d.Keys = kept
	d.Generation++
}

func (d keyDoc) find(state string) *storedKey {
	for i := range d.Keys {
		if d.Keys[i].State == state {
			return &d.Keys[i]
		}
	}
	return nil
}

func (k *Keys) generate() (storedKey, error) {
	newKey := k.opts.NewKey
	if newKey == nil {
		newKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, k.opts.Bits) }
	}
	priv, err := newKey()
	if err != nil {
		return storedKey{}, err
	}
	now := k.clk.Now()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return storedKey{}, err
	}
	// A self-signed certificate, as Entra publishes x5c for its keys.
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "aksid token signing"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return storedKey{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storedKey{}, err
	}
	sealed, err := k.seal.Seal(sealLabel, pkcs8)
	if err != nil {
		return storedKey{}, err
	}
	return storedKey{Kid: thumbprint(der), Created: now, CertDER: der, SealedKey: sealed}, nil
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Refresh reloads the key set from the store when another replica (or
// this one) changed it.
func (k *Keys) Refresh(ctx context.Context) error {
	doc, err := k.read(ctx)
	if err != nil {
		return err
	}
	if cur := k.cur.Load(); cur != nil && cur.generation == doc.Generation {
		return nil
	}
	ks, err := k.build(doc)
	if err != nil {
		return err
	}
	k.cur.Store(ks)
	return nil
}

func (k *Keys) build(doc keyDoc) (*keySet, error) {
	cur := doc.find(stateCurrent)
	if cur == nil {
		return nil, errors.New("sts: no current signing key")
	}
	pkcs8, err := k.seal.Open(sealLabel, cur.SealedKey)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("sts: signing key: %w", err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("sts: signing key is not RSA")
	}
	signer, err := signerFor(k.opts.Backend, priv, cur.Kid)
	if err != nil {
		return nil, err
	}
	ks := &keySet{generation: doc.Generation, kid: cur.Kid, x5t: cur.Kid, signer: signer, public: map[string]*rsa.PublicKey{}}
	type jwk struct {
		Kty string   `json:"kty"`
		Use string   `json:"use"`
		Kid string   `json:"kid"`
		X5t string   `json:"x5t"`
		N   string   `json:"n"`
		E   string   `json:"e"`
		X5c []string `json:"x5c"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	now := k.clk.Now()
	for _, sk := range doc.Keys {
		if sk.State == stateRetired && !now.Before(sk.VerifyUntil) {
			continue
		}
		cert, err := x509.ParseCertificate(sk.CertDER)
		if err != nil {
			return nil, fmt.Errorf("sts: key certificate: %w", err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("sts: key certificate is not RSA")
		}
		ks.public[sk.Kid] = pub
		set.Keys = append(set.Keys, jwk{Kty: "RSA", Use: "sig", Kid: sk.Kid, X5t: sk.Kid,
			N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			X5c: []string{base64.StdEncoding.EncodeToString(sk.CertDER)}})
	}
	ks.jwks, err = json.Marshal(set)
	return ks, err
}

// Loaded tells whether a signing key is in memory.
func (k *Keys) Loaded() bool { return k.cur.Load() != nil }

// JWKS returns the published key set document.
func (k *Keys) JWKS() []byte { return k.cur.Load().jwks }

// CurrentKID names the key that signs now.
func (k *Keys) CurrentKID() string { return k.cur.Load().kid }

// PublicKey returns a published verification key.
func (k *Keys) PublicKey(kid string) (*rsa.PublicKey, bool) {
	pub, ok := k.cur.Load().public[kid]
	return pub, ok
}

// Sign signs payload (JSON claims) with the current key as a compact JWS.
func (k *Keys) Sign(payload []byte) (string, error) {
	obj, err := k.cur.Load().signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// VerifyKey returns a published key, re-reading the store once when the
// kid is unknown (another replica may have rotated).
func (k *Keys) VerifyKey(ctx context.Context, kid string) (*rsa.PublicKey, bool) {
	if pub, ok := k.PublicKey(kid); ok {
		return pub, true
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, false
	}
	return k.PublicKey(kid)
}
