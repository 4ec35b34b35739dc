package directory

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/aksid/aksid/internal/store"
	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP's minimum: 19 MiB, 2 passes): passwords
// are low-entropy, so they get a slow hash; the stored PHC string keeps
// the parameters, so they can grow later.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// ErrUserNotFound is returned for an unknown user.
var ErrUserNotFound = errors.New("directory: user not found")

// UserSpec describes a user to create.
type UserSpec struct {
	UserPrincipalName string
	DisplayName       string
	Password          string
	MailNickname      string
	Disabled          bool // accountEnabled false
	Extra             Extra
}

// EnsureUser creates the user unless one with that UPN exists.
func (d *Directory) EnsureUser(ctx context.Context, tenantID string, spec UserSpec) (User, error) {
	if spec.UserPrincipalName == "" || spec.Password == "" {
		return User{}, invalid("userPrincipalName and password are required.")
	}
	if existing, err := d.UserByUPN(ctx, spec.UserPrincipalName); err == nil {
		return existing, nil
	}
	hash, err := d.hashPassword(spec.Password)
	if err != nil {
		return User{}, err
	}
	u := User{ObjectID: d.newID(), TenantID: tenantID, UserPrincipalName: spec.UserPrincipalName,
		DisplayName: spec.DisplayName, AccountEnabled: true, PasswordHash: hash, Created: d.clk.Now().UTC()}
	err = d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Create(kindUserUPN, strings.ToLower(u.UserPrincipalName), []byte(tenantID+"/"+u.ObjectID)); err != nil {
			return err
		}
		return store.CreateJSON(tx, kindUser, tenantID+"/"+u.ObjectID, u)
	})
	return u, err
}

// UserByUPN finds a user by user principal name (case-insensitive).
func (d *Directory) UserByUPN(ctx context.Context, upn string) (User, error) {
	var u User
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		key, err := tx.Get(kindUserUPN, strings.ToLower(upn))
		if err != nil {
			return err
		}
		return store.GetJSON(tx, kindUser, string(key), &u)
	})
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	return u, err
}

func (d *Directory) hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := d.rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword tells whether password matches u's argon2id hash.
func CheckPassword(u User, password string) bool {
	var version, mem, t int
	var threads uint8
	parts := strings.Split(u.PasswordHash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &threads); err != nil || mem <= 0 || t <= 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(mem), threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
