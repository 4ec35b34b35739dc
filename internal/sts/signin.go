package sts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
)

// Smart lockout, as Entra's defaults: ten failed attempts lock the
// account for a minute; once past the threshold every further failure
// locks it again, each time for longer. Time is aksid's clock, so
// `aksid clock advance` ends a lockout.
const (
	LockoutThreshold = 10
	LockoutDuration  = 60 * time.Second
	maxLockout       = time.Hour
)

// lockoutFor is the length of the n-th lockout (n from 0): doubling.
func lockoutFor(n int) time.Duration {
	d := LockoutDuration
	for i := 0; i < n && d < maxLockout; i++ {
		d *= 2
	}
	return min(d, maxLockout)
}

// VerifyUserPassword is the one password check of every sign-in (ROPC,
// the device-login page, the browser sign-in page): the user of tenantID
// ("" for any tenant: common, organizations, az's /adfs) by UPN, enabled,
// not locked, with this password. A wrong password counts toward the
// lockout; a right one clears the count. While locked even the right
// password is refused (50053).
//
// A nil error means the password is right; the caller still decides what
// the user's RequireMFA means for its flow: ROPC refuses with 50076
// (errMFARequired), interactive pages ask for VerifySecondFactor.
// Refusals are *Error values with Entra's codes: 50034 unknown user,
// 50126 wrong password, 50053 locked, 50057 disabled (told only to
// whoever knows the password).
func (s *Service) VerifyUserPassword(ctx context.Context, tenantID, upn, password string) (directory.User, error) {
	user, err := s.dir.UserByUPN(ctx, strings.TrimSpace(upn))
	if errors.Is(err, directory.ErrUserNotFound) || (err == nil && tenantID != "" && user.TenantID != tenantID) {
		return directory.User{}, errUserNotFound(s.tenantName(ctx, tenantID))
	} else if err != nil {
		return directory.User{}, err
	}
	if !directory.CheckPassword(user, password) {
		return user, s.failed(ctx, user)
	}
	if err := s.passed(ctx, user); err != nil {
		return user, err
	}
	// Only the right password learns that the account is disabled.
	if !user.AccountEnabled {
		return user, errUserDisabled()
	}
	return user, nil
}

// signInUser checks a person's name and password on a sign-in page (device login, browser), for
// the tenant the request named (or the user's own for common/organizations),
// with the smart lockout every password check shares.
func (s *Service) signInUser(ctx context.Context, tenantSeg, username, password string) (directory.User, error) {
	tenantID := ""
	if t, err := s.ResolveTenant(ctx, tenantSeg); err == nil {
		tenantID = t.ID
	}
	return s.VerifyUserPassword(ctx, tenantID, username, password)
}

// VerifySecondFactor checks an MFA user's verification code after the
// password; wrong codes count toward the same lockout as passwords, so
// the eight digits cannot be guessed online.
func (s *Service) VerifySecondFactor(ctx context.Context, user directory.User, code string) error {
	if !user.RequireMFA {
		return nil
	}
	if directory.CheckSecondFactor(user, strings.TrimSpace(code)) {
		return s.passed(ctx, user)
	}
	if err := s.failed(ctx, user); !isCode(err, 50126) { // locked (or the store failed): say so
		return err
	}
	return errBadSecondFactor()
}

// passed ends a sign-in check that succeeded: refused if the account is
// locked, else the failures are forgotten.
func (s *Service) passed(ctx context.Context, user directory.User) error {
	l, err := s.dir.UserLockout(ctx, user.TenantID, user.ObjectID)
	switch {
	case err != nil:
		return err
	case l.Locked(s.aksid.Now()):
		return errLocked()
	case l.Failures > 0:
		return s.dir.ClearLockout(ctx, user.TenantID, user.ObjectID)
	}
	return nil
}

// failed counts a wrong password or code; the attempt that reaches the
// threshold (or any attempt while locked) answers 50053.
func (s *Service) failed(ctx context.Context, user directory.User) error {
	now := s.aksid.Now()
	locked := false
	_, err := s.dir.UpdateLockout(ctx, user.TenantID, user.ObjectID, func(l *directory.Lockout) {
		if l.Locked(now) {
			locked = true // attempts while locked do not lengthen the lock
			return
		}
		l.Failures++
		if l.Failures >= LockoutThreshold {
			l.LockedUntil = now.Add(lockoutFor(l.Lockouts))
			l.Lockouts++
			locked = true
		}
	})
	switch {
	case err != nil:
		return err
	case locked:
		return errLocked()
	}
	return errBadPassword()
}

// blockedByPolicy tells whether a conditional-access policy with control
// covers the user; Entra evaluates it after the first factor.
func (s *Service) blockedByPolicy(ctx context.Context, user directory.User, control string) error {
	p, err := s.dir.PolicyBlocking(ctx, user.TenantID, user.ObjectID, control)
	if err != nil {
		return err
	}
	if p != nil {
		return errBlockedByCA()
	}
	return nil
}

func (s *Service) tenantName(ctx context.Context, tenantID string) string {
	if tenantID == "" {
		return "organizations"
	}
	if t, err := s.dir.CachedTenant(ctx, tenantID); err == nil {
		return t.DisplayName
	}
	return tenantID
}

func isCode(err error, code int) bool {
	var se *Error
	return errors.As(err, &se) && se.Code == code
}

// ErrorCode returns the AADSTS number an sts refusal carries (0 if none),
// for pages that show a person what went wrong.
func ErrorCode(err error) int {
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}
