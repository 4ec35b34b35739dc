package sts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindDeviceCode = "sts_device_code" // sha256(device_code) → deviceRecord
	kindUserCode   = "sts_user_code"   // user code → device key
	deviceLifetime = 15 * time.Minute  // aksid's clock
	deviceInterval = 5
	// minPollGap is lenient: MSAL Go's back-off starts at 50 ms and Entra
	// tolerates it; only faster polling than this is told to slow down.
	minPollGap    = time.Second
	userCodeChars = "BCDFGHJKLMNPQRSTVWXZ23456789" // no vowels: no words, no 0/O, 1/I
)

// Device-code states.
const (
	devicePending  = "pending"
	deviceApproved = "approved"
	deviceDeclined = "declined"
	deviceBlocked  = "blocked" // by a conditional-access policy
)

// deviceRecord is a device-code sign-in in progress; only a hash of the
// device code is kept.
type deviceRecord struct {
	TenantSeg string    `json:"tenantSeg"` // the path segment the device asked on
	ClientID  string    `json:"clientId"`
	Scope     string    `json:"scope"`
	Resource  string    `json:"resource"` // v1
	Expires   time.Time `json:"expires"`
	State     string    `json:"state"`
	UserID    string    `json:"userId,omitempty"`
	TenantID  string    `json:"tenantId,omitempty"`
	UserCode  string    `json:"userCode"`
	AMR       []string  `json:"amr,omitempty"`
	// A password accepted for an MFA user waits for the second factor:
	// the page holds the flow token, the record its hash.
	PendingUser string `json:"pendingUser,omitempty"`
	FlowHash    string `json:"flowHash,omitempty"`
	// Consent: the flow waits for the person's consent (consent.go), not
	// a second factor; AMR then holds how they signed in.
	Consent bool `json:"consent,omitempty"`
	// LastPoll (wall clock) paces the device: polls closer than
	// minPollGap get slow_down instead of authorization_pending.
	LastPoll time.Time `json:"lastPoll,omitzero"`
}

// DeviceCode is the answer to a device authorization request.
type DeviceCode struct {
	DeviceCode string
	UserCode   string
	ExpiresIn  int
	Interval   int
}

func deviceKey(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// StartDeviceCode begins a device-code sign-in for a public client.
func (s *Service) StartDeviceCode(ctx context.Context, tenantSeg string, form url.Values) (DeviceCode, error) {
	clientID := form.Get("client_id")
	if clientID == "" {
		return DeviceCode{}, errMissingParam("client_id")
	}
	if _, err := s.ResolveTenant(ctx, tenantSeg); err != nil && !strings.EqualFold(tenantSeg, "adfs") {
		return DeviceCode{}, err
	}
	if form.Get("scope") == "" && form.Get("resource") == "" {
		return DeviceCode{}, errMissingParam("scope")
	}
	if _, err := s.dir.Application(ctx, strings.ToLower(clientID)); err != nil {
		return DeviceCode{}, errClientNotFound(clientID, tenantSeg)
	}
	dc := DeviceCode{DeviceCode: "DAQABAAEAAAD" + s.opaque(96), ExpiresIn: int(deviceLifetime.Seconds()), Interval: deviceInterval}
	var raw [9]byte
	if _, err := s.rand.Read(raw[:]); err != nil {
		return DeviceCode{}, err
	}
	code := make([]byte, 9)
	for i, b := range raw {
		code[i] = userCodeChars[int(b)%len(userCodeChars)]
	}
	dc.UserCode = string(code)
	rec := deviceRecord{TenantSeg: tenantSeg, ClientID: strings.ToLower(clientID), Scope: form.Get("scope"), Resource: form.Get("resource"),
		Expires: s.aksid.Now().Add(deviceLifetime), State: devicePending, UserCode: dc.UserCode}
	err := s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := store.CreateJSON(tx, kindDeviceCode, deviceKey(dc.DeviceCode), rec); err != nil {
			return err
		}
		return tx.Create(kindUserCode, dc.UserCode, []byte(deviceKey(dc.DeviceCode)))
	})
	return dc, err
}

// DevicePrompt is what the device-login page shows about a code.
type DevicePrompt struct {
	ClientName string
	Expires    time.Time
}

// LookupUserCode finds a pending device sign-in by the code a person typed.
func (s *Service) LookupUserCode(ctx context.Context, userCode string) (DevicePrompt, error) {
	pd, err := s.deviceByUserCode(ctx, userCode)
	if err != nil {
		return DevicePrompt{}, err
	}
	rec := pd.rec
	app, err := s.dir.Application(ctx, rec.ClientID)
	if err != nil {
		return DevicePrompt{}, err
	}
	return DevicePrompt{ClientName: app.DisplayName, Expires: rec.Expires}, nil
}

// ErrUnknownUserCode is the page's answer to a code that names nothing
// pending (typo, expired, already used).
var ErrUnknownUserCode = errors.New("sts: unknown or expired code")

func normalizeUserCode(c string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(c)))
}

// pendingDevice is a pending device sign-in and its record's key.
type pendingDevice struct {
	rec deviceRecord
	key string
}

func (s *Service) deviceByUserCode(ctx context.Context, userCode string) (pendingDevice, error) {
	var rec deviceRecord
	var key string
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		b, err := tx.Get(kindUserCode, normalizeUserCode(userCode))
		if err != nil {
			return err
		}
		key = string(b)
		return store.GetJSON(tx, kindDeviceCode, key, &rec)
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && (rec.State != devicePending || s.aksid.Now().After(rec.Expires))) {
		return pendingDevice{rec: rec}, ErrUnknownUserCode
	}
	return pendingDevice{rec, key}, err
}

// ApproveDeviceCode signs the person in with name and password and lets
// the device's sign-in through.
func (s *Service) ApproveDeviceCode(ctx context.Context, userCode, username, password string) error {
	return s.completeDeviceCode(ctx, userCode, username, password, deviceApproved)
}

// DeclineDeviceCode signs the person in and refuses the device's sign-in.
func (s *Service) DeclineDeviceCode(ctx context.Context, userCode, username, password string) error {
	return s.completeDeviceCode(ctx, userCode, username, password, deviceDeclined)
}

func (s *Service) completeDeviceCode(ctx context.Context, userCode, username, password, outcome string) error {
	pd, err := s.deviceByUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	rec, key := pd.rec, pd.key
	user, err := s.signInUser(ctx, rec.TenantSeg, username, password)
	if err != nil {
		return err
	}
	if outcome == deviceDeclined {
		return s.settleDevice(ctx, key, user, deviceDeclined, nil, "")
	}
	if err := s.blockedByPolicy(ctx, user, directory.ControlBlockDeviceCode); err != nil {
		// The person sees the block on the page; the device learns it
		// at its next poll.
		if serr := s.settleDevice(ctx, key, user, deviceBlocked, nil, ""); serr != nil {
			return serr
		}
		return err
	}
	if user.RequireMFA {
		flow := s.opaque(32)
		if err := s.settleDevice(ctx, key, user, devicePending, nil, deviceKey(flow)); err != nil {
			return err
		}
		return &SecondFactorRequired{Flow: flow}
	}
	return s.approveOrAsk(ctx, pd, user, []string{"pwd"})
}

// SecondFactorRequired is ApproveDeviceCode's answer for an MFA user
// whose password was right: the page asks for the verification code and
// passes Flow back with it.
type SecondFactorRequired struct{ Flow string }

func (e *SecondFactorRequired) Error() string { return "sts: second factor required" }

// ApproveDeviceCodeSecondFactor completes an MFA user's device sign-in
// with the verification code, for the browser that gave the password.
func (s *Service) ApproveDeviceCodeSecondFactor(ctx context.Context, userCode, flow, code string) error {
	pd, err := s.deviceByUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	rec := pd.rec
	if rec.PendingUser == "" || rec.Consent || subtle.ConstantTimeCompare([]byte(deviceKey(flow)), []byte(rec.FlowHash)) != 1 {
		return ErrUnknownUserCode
	}
	user, err := s.dir.User(ctx, rec.TenantID, rec.PendingUser)
	if err != nil {
		return ErrUnknownUserCode
	}
	if err := s.VerifySecondFactor(ctx, user, code); err != nil {
		return err
	}
	return s.approveOrAsk(ctx, pd, user, []string{"pwd", "mfa"})
}

// settleDevice records the page's outcome on a still-pending sign-in.
func (s *Service) settleDevice(ctx context.Context, key string, user directory.User, state string, amr []string, flowHash string) error {
	return s.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var cur deviceRecord
		if err := store.GetJSON(tx, kindDeviceCode, key, &cur); err != nil {
			return err
		}
		if cur.State != devicePending {
			return ErrUnknownUserCode
		}
		cur.State, cur.UserID, cur.TenantID, cur.AMR = state, user.ObjectID, user.TenantID, amr
		cur.PendingUser, cur.FlowHash, cur.Consent = "", flowHash, false
		if flowHash != "" {
			cur.PendingUser, cur.TenantID = user.ObjectID, user.TenantID
			cur.Consent = len(amr) > 0 // a second factor's flow has no methods yet
		}
		return store.PutJSON(tx, kindDeviceCode, key, cur)
	})
}

// deviceCodeGrant is the device's polling: pending until the person signs
// in, then the tokens, once.
type deviceCodeGrant struct{ s *Service }

func (g deviceCodeGrant) Check(ctx context.Context, r *grantRequest) (*redemption, error) {
	code := r.Form.Get("device_code")
	if code == "" {
		code = r.Form.Get("code") // ADAL (kubelogin --legacy) sends code
	}
	if code == "" {
		return nil, errMissingParam("device_code")
	}
	var rec deviceRecord
	key := deviceKey(code)
	err := g.s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindDeviceCode, key, &rec)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadVerificationCode()
	case err != nil:
		return nil, err
	case !strings.EqualFold(rec.ClientID, r.clientID):
		// Another client's poll neither paces nor spends the code.
		return nil, errBadVerificationCode()
	case g.s.aksid.Now().After(rec.Expires):
		return nil, errDeviceExpired()
	case rec.State == deviceDeclined:
		return nil, errAuthorizationDeclined()
	case rec.State == deviceBlocked:
		return nil, errBlockedByCA()
	case rec.State == devicePending:
		// Nothing to issue yet; the poll's time is kept to pace the device.
		return &redemption{public: true, spend: g.pace(key)}, nil
	}
	amr := rec.AMR
	if len(amr) == 0 {
		amr = []string{"pwd"}
	}
	red, err := g.s.checkSignIn(ctx, r, signedIn{tenantID: rec.TenantID, userID: rec.UserID, scope: rec.Scope, resource: rec.Resource,
		amr: amr, authTime: g.s.wall.Now().Unix()})
	if err != nil {
		return nil, err
	}
	// Tokens are handed out once: the code is spent.
	red.spend = func(ctx context.Context, tx store.Tx) (*Error, error) {
		err := tx.Delete(kindDeviceCode, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errBadVerificationCode() // redeemed meanwhile
		} else if err != nil {
			return nil, err
		}
		return nil, tx.Delete(kindUserCode, rec.UserCode)
	}
	return red, nil
}

// pace records a pending poll's time and answers it: authorization_pending,
// or slow_down when the device polls faster than minPollGap.
func (g deviceCodeGrant) pace(key string) func(ctx context.Context, tx store.Tx) (*Error, error) {
	return func(ctx context.Context, tx store.Tx) (*Error, error) {
		var cur deviceRecord
		if err := store.GetJSON(tx, kindDeviceCode, key, &cur); err != nil {
			return nil, err
		}
		if cur.State != devicePending {
			// Signed in (or refused) since the check: the next poll tells.
			return errAuthorizationPending(), nil
		}
		now := g.s.wall.Now()
		tooFast := !cur.LastPoll.IsZero() && now.Sub(cur.LastPoll) < minPollGap
		cur.LastPoll = now
		if err := store.PutJSON(tx, kindDeviceCode, key, cur); err != nil {
			return nil, err
		}
		if tooFast {
			return errSlowDown(), nil
		}
		return errAuthorizationPending(), nil
	}
}
