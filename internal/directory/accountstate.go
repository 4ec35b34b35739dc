package directory

import (
	"context"
	"errors"
	"time"

	"github.com/aksid/aksid/internal/store"
)

// Lockout is a user's failed-sign-in record (smart lockout). It is kept
// apart from the User so that sign-in failures never race a Graph PATCH.
// The policy (threshold, durations) is the token service's; the
// directory only stores the counter.
type Lockout struct {
	Failures    int       `json:"failures"`
	Lockouts    int       `json:"lockouts"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"` // aksid's clock
}

// Locked tells whether the account is locked at now.
func (l Lockout) Locked(now time.Time) bool { return now.Before(l.LockedUntil) }

// UserLockout reads a user's failed-sign-in record (zero when none).
func (d *Directory) UserLockout(ctx context.Context, tenantID, userID string) (Lockout, error) {
	var l Lockout
	err := d.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindLockout, tenantID+"/"+userID, &l)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Lockout{}, nil
	}
	return l, err
}

// UpdateLockout changes a user's failed-sign-in record in one
// transaction, so concurrent failures all count.
func (d *Directory) UpdateLockout(ctx context.Context, tenantID, userID string, fn func(*Lockout)) (Lockout, error) {
	var l Lockout
	err := d.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		l = Lockout{}
		key := tenantID + "/" + userID
		if err := store.GetJSON(tx, kindLockout, key, &l); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		fn(&l)
		return store.PutJSON(tx, kindLockout, key, l)
	})
	return l, err
}

// ClearLockout forgets a user's failures: after a successful sign-in, or
// when an administrator unlocks the account.
func (d *Directory) ClearLockout(ctx context.Context, tenantID, userID string) error {
	return d.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return deleteIfPresent(tx, kindLockout, tenantID+"/"+userID)
	})
}

// MFAEnrollment is a user who now needs a second factor, and the
// verification code, shown only this once.
type MFAEnrollment struct {
	User User
	Code string
}

// RequireMFA makes the user sign in with a second factor and issues a new
// verification code; only its argon2id hash is kept.
func (d *Directory) RequireMFA(ctx context.Context, tenantID, idOrUPN string) (MFAEnrollment, error) {
	code, err := d.verificationCode()
	if err != nil {
		return MFAEnrollment{}, err
	}
	hash, err := d.hashPassword(code)
	if err != nil {
		return MFAEnrollment{}, err
	}
	u, err := d.setMFA(ctx, tenantID, idOrUPN, hash)
	return MFAEnrollment{User: u, Code: code}, err
}

// WaiveMFA lets the user sign in with a password alone again.
func (d *Directory) WaiveMFA(ctx context.Context, tenantID, idOrUPN string) (User, error) {
	return d.setMFA(ctx, tenantID, idOrUPN, "")
}

// setMFA stores the second factor's hash; none means no MFA.
func (d *Directory) setMFA(ctx context.Context, tenantID, idOrUPN, hash string) (User, error) {
	var out User
	err := d.update(ctx, func(ctx context.Context, tx store.Tx) error {
		u, err := userByIDOrUPN(tx, tenantID, idOrUPN)
		if err != nil {
			return err
		}
		u.RequireMFA, u.MFACodeHash = hash != "", hash
		out = u
		return store.PutJSON(tx, kindUser, tenantID+"/"+u.ObjectID, u)
	})
	return out, err
}

// verificationCode is eight digits, typed by a person; guessing is bounded
// by the lockout, which counts wrong codes too.
func (d *Directory) verificationCode() (string, error) {
	var b [8]byte
	if _, err := d.rand.Read(b[:]); err != nil {
		return "", err
	}
	out := make([]byte, len(b))
	for i, x := range b {
		out[i] = '0' + x%10
	}
	return string(out), nil
}

// CheckSecondFactor tells whether code is u's verification code.
func CheckSecondFactor(u User, code string) bool {
	if !u.RequireMFA || u.MFACodeHash == "" || code == "" {
		return false
	}
	return CheckPassword(User{PasswordHash: u.MFACodeHash}, code)
}
