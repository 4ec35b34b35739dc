package sts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindMFAFlow     = "sts_mfa_flow" // sha256(flow token) → mfaFlow
	mfaFlowLifetime = 10 * time.Minute
)

// mfaFlow is a browser sign-in whose password was right, waiting for the
// MFA user's verification code; the page holds the flow token.
type mfaFlow struct {
	ClientID string    `json:"clientId"`
	UserID   string    `json:"userId"`
	TenantID string    `json:"tenantId"`
	Expires  time.Time `json:"expires"` // aksid's clock
}

// startSecondFactor records the first factor and asks the page for the
// second.
func (s *Service) startSecondFactor(ctx context.Context, clientID string, user directory.User) error {
	flow := s.opaque(32)
	rec := mfaFlow{ClientID: strings.ToLower(clientID), UserID: user.ObjectID, TenantID: user.TenantID, Expires: s.aksid.Now().Add(mfaFlowLifetime)}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.CreateJSON(tx, kindMFAFlow, deviceKey(flow), rec)
	})
	if err != nil {
		return err
	}
	return &SecondFactorRequired{Flow: flow}
}

// AuthorizeSecondFactor completes an MFA user's browser sign-in with the
// verification code: the authorization code then carries amr pwd+mfa. A
// wrong code may be retried with the same flow (the lockout bounds it).
func (s *Service) AuthorizeSecondFactor(ctx context.Context, a AuthorizeRequest, flow, code string) (string, error) {
	if _, err := s.CheckAuthorize(ctx, a); err != nil {
		return "", err
	}
	var rec mfaFlow
	key := deviceKey(flow)
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindMFAFlow, key, &rec)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && (s.aksid.Now().After(rec.Expires) || !strings.EqualFold(rec.ClientID, a.ClientID))) {
		return "", errSignInExpired()
	} else if err != nil {
		return "", err
	}
	user, err := s.dir.User(ctx, rec.TenantID, rec.UserID)
	if err != nil {
		return "", errSignInExpired()
	}
	if err := s.VerifySecondFactor(ctx, user, code); err != nil {
		return "", err
	}
	err = s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.Delete(kindMFAFlow, key) // once
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", errSignInExpired()
	} else if err != nil {
		return "", err
	}
	return s.codeOrConsent(ctx, a, user, []string{"pwd", "mfa"})
}

// ErrSignInExpired is the page's answer to a second-factor step that names
// no pending sign-in (expired, used, or for another app): sign in again.
var ErrSignInExpired = errors.New("sts: the sign-in expired")

func errSignInExpired() error { return ErrSignInExpired }
