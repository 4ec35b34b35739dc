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
	kindMFAFlow      = "sts_mfa_flow" // sha256(flow token) → pageFlow
	pageFlowLifetime = 10 * time.Minute
)

// pageFlow is a browser sign-in waiting for the person's next answer on
// the page, which holds the flow token: an MFA user's verification code
// (kindMFAFlow) or, once signed in with AMR's methods, their consent
// (kindConsentFlow). The two kinds keep one flow from standing for the other.
type pageFlow struct {
	ClientID string    `json:"clientId"`
	UserID   string    `json:"userId"`
	TenantID string    `json:"tenantId"`
	AMR      []string  `json:"amr,omitempty"`
	Expires  time.Time `json:"expires"` // aksid's clock
}

// current tells whether the flow is unexpired and for the asking client.
func (s *Service) current(f pageFlow, clientID string) bool {
	return !s.aksid.Now().After(f.Expires) && strings.EqualFold(f.ClientID, clientID)
}

// startSecondFactor records the first factor and asks the page for the
// second.
func (s *Service) startSecondFactor(ctx context.Context, clientID string, user directory.User) error {
	flow := s.opaque(32)
	rec := pageFlow{ClientID: strings.ToLower(clientID), UserID: user.ObjectID, TenantID: user.TenantID, Expires: s.aksid.Now().Add(pageFlowLifetime)}
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
	var rec pageFlow
	key := deviceKey(flow)
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindMFAFlow, key, &rec)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.current(rec, a.ClientID)) {
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
