// Package keyring holds the data directory's master key, which encrypts private keys at rest and derives aksid's bootstrap secrets.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Keyring seals and opens data with a 256-bit master key.
type Keyring struct {
	key  []byte
	aead cipher.AEAD
}

// New builds a keyring on a 32-byte master key.
func New(key []byte) (*Keyring, error) {
	if len(key) != 32 {
		return nil, errors.New("keyring: master key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{key: append([]byte(nil), key...), aead: aead}, nil
}

// Random returns a keyring on a fresh random key (for --in-memory runs).
func Random() (*Keyring, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return New(key)
}

// LoadOrCreate reads the hex master key at path, creating it (mode 0600)
// when absent. Callers serialise first starts with a lock on the directory.
func LoadOrCreate(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return New(key)
	}
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s is not a hex key", path)
	}
	return New(key)
}

// Seal encrypts plaintext; label binds the ciphertext to its purpose so a
// sealed blob cannot be swapped for another.
func (k *Keyring) Seal(label string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, []byte(label)), nil
}

// Open decrypts what Seal produced under the same label.
func (k *Keyring) Open(label string, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("keyring: sealed data too short")
	}
	pt, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return nil, errors.New("keyring: cannot decrypt (wrong master key or corrupted data)")
	}
	return pt, nil
}

// Derive returns 32 bytes bound to label. Bootstrap secrets are derived
// rather than stored, so the store keeps only their hashes and `aksid env`
// can still print them.
func (k *Keyring) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("aksid/" + label))
	return m.Sum(nil)
}
