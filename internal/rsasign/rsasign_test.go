package rsasign

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
)

func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// backends are the ones this machine can run: Go always, OpenSSL when
// libcrypto loads (the test says which).
func backends(t testing.TB) []Backend {
	c, err := Choose("auto")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("auto chose %s", c)
	if c.Backend == OpenSSL {
		return []Backend{Go, OpenSSL}
	}
	return []Backend{Go}
}

// Each backend's signature verifies with every backend's verifier, and
// PKCS #1 v1.5 being deterministic, both give the same bytes: tokens are
// the same whichever signs them.
func TestBackendsAgree(t *testing.T) {
	key := testKey(t)
	msg := []byte(`eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9`)
	digest := sha256.Sum256(msg)
	bs := backends(t)
	sigs := map[Backend][]byte{}
	for _, b := range bs {
		s, err := New(b, key)
		if err != nil {
			t.Fatal(err)
		}
		if s.Backend() != b || s.Public().N.Cmp(key.N) != 0 {
			t.Fatalf("%s signer: backend %s, wrong public key", b, s.Backend())
		}
		sig, err := Sign(s, msg)
		if err != nil {
			t.Fatal(err)
		}
		sigs[b] = sig
		for _, v := range bs {
			if err := Verify(v, &key.PublicKey, digest[:], sig); err != nil {
				t.Errorf("%s's signature does not verify with %s: %v", b, v, err)
			}
		}
		bad := bytes.Clone(sig)
		bad[len(bad)/2] ^= 1
		for _, v := range bs {
			if Verify(v, &key.PublicKey, digest[:], bad) == nil {
				t.Errorf("%s accepted a changed %s signature", v, b)
			}
		}
	}
	if s, ok := sigs[OpenSSL]; ok && !bytes.Equal(s, sigs[Go]) {
		t.Error("OpenSSL and Go signed the same digest differently")
	}
}

// The signers are shared by every request: concurrent use is safe (run
// with -race).
func TestConcurrentSigning(t *testing.T) {
	key := testKey(t)
	for _, b := range backends(t) {
		s, err := New(b, key)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				msg := fmt.Appendf(nil, "token %d", i)
				sig, err := Sign(s, msg)
				if err == nil {
					d := sha256.Sum256(msg)
					err = Verify(Go, &key.PublicKey, d[:], sig)
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Errorf("%s: %v", b, err)
			}
		}
	}
}

func TestChoose(t *testing.T) {
	c, err := Choose("go")
	if err != nil || c.Backend != Go {
		t.Fatalf("go: %v %v", c, err)
	}
	if _, err := Choose("boring"); err == nil {
		t.Fatal("an unknown backend was accepted")
	}
	auto, err := Choose("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Choose("openssl"); (err == nil) != (auto.Backend == OpenSSL) {
		t.Fatalf("auto chose %s, but asking for OpenSSL gave %v", auto, err)
	}
	if auto.Library == "" || (auto.Backend == Go) != (auto.Why != "") {
		t.Fatal("the choice says nothing of the library or why it fell back")
	}
	if _, err := New("boring", testKey(t)); err == nil {
		t.Fatal("New took an unknown backend")
	}
}

// BenchmarkSign is raw RS256 per backend on all cores.
func BenchmarkSign(b *testing.B) {
	key := testKey(b)
	digest := sha256.Sum256([]byte("payload"))
	for _, be := range backends(b) {
		s, err := New(be, key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(be), func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.SignSHA256(digest[:]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
