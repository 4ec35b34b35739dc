package app

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/aksid/aksid/internal/bootstrap"
	"github.com/aksid/aksid/internal/clock"
	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/store"
)

const (
	kindConfig = "config"
	keyClock   = "clock"
)

// Ops are the operator's actions, run by the admin endpoints of a running
// server or directly on the store when none runs.
type Ops struct {
	st   store.Store
	dir  *directory.Directory
	clk  *clock.Virtual
	wall clock.Clock
	keys interface{ Rotate(context.Context) error }
	// clusters is set on a running server only.
	clusters *clusterOps
	// hostOps is set on a running server only.
	hostOps *hostOps
}

// ClockState describes aksid's clock.
type ClockState struct {
	Now    time.Time `json:"now"`
	Wall   time.Time `json:"wall"`
	Offset string    `json:"offset"`
}

type clockDoc struct {
	OffsetNanos int64 `json:"offsetNanos"`
}

// loadClockOffset reads the persisted offset (zero when never moved).
func loadClockOffset(ctx context.Context, st store.Store) (time.Duration, error) {
	var doc clockDoc
	err := st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		return store.GetJSON(tx, kindConfig, keyClock, &doc)
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return time.Duration(doc.OffsetNanos), err
}

// Clock shows the clock.
func (o *Ops) Clock() ClockState {
	return ClockState{Now: o.clk.Now().UTC(), Wall: o.wall.Now().UTC(), Offset: o.clk.Offset().String()}
}

// AdvanceClock moves the clock forward (or back, for a negative d).
func (o *Ops) AdvanceClock(ctx context.Context, d time.Duration) (ClockState, error) {
	return o.setOffset(ctx, func(cur time.Duration) time.Duration { return cur + d })
}

// SetClock puts the clock at t.
func (o *Ops) SetClock(ctx context.Context, t time.Time) (ClockState, error) {
	return o.setOffset(ctx, func(time.Duration) time.Duration { return t.Sub(o.wall.Now()) })
}

// ResetClock puts the clock back on wall time.
func (o *Ops) ResetClock(ctx context.Context) (ClockState, error) {
	return o.setOffset(ctx, func(time.Duration) time.Duration { return 0 })
}

func (o *Ops) setOffset(ctx context.Context, next func(time.Duration) time.Duration) (ClockState, error) {
	var offset time.Duration
	err := o.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var doc clockDoc
		if err := store.GetJSON(tx, kindConfig, keyClock, &doc); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		offset = next(time.Duration(doc.OffsetNanos))
		if err := store.PutJSON(tx, kindConfig, keyClock, clockDoc{OffsetNanos: int64(offset)}); err != nil {
			return err
		}
		// Replicas re-read the clock when the directory's generation
		// moves, at their next token request.
		return directory.Touch(tx)
	})
	if err != nil {
		return ClockState{}, err
	}
	o.clk.SetOffset(offset)
	return o.Clock(), nil
}

// refreshClock picks up a move another process (a replica, or the CLI
// acting on the store) made.
func (o *Ops) refreshClock(ctx context.Context) error {
	off, err := loadClockOffset(ctx, o.st)
	if err == nil {
		o.clk.SetOffset(off)
	}
	return err
}

// CreatedSP is what `aksid sp create` prints, shaped like
// `az ad sp create-for-rbac`.
type CreatedSP struct {
	AppID       string  `json:"appId"`
	DisplayName string  `json:"displayName"`
	CertFile    string  `json:"fileWithCertAndPrivateKey,omitempty"`
	Password    *string `json:"password"`
	Tenant      string  `json:"tenant"`
}

// CreateSP registers an application with a service principal and either
// a client secret valid for years (one by default) on aksid's clock or,
// when certDER is given, that certificate (its key stays with the caller).
func (o *Ops) CreateSP(ctx context.Context, name string, years int, certDER []byte) (CreatedSP, error) {
	if years <= 0 {
		years = 1
	}
	if years > 100 {
		return CreatedSP{}, fmt.Errorf("%w: years must be between 1 and 100", directory.ErrInvalidArgument)
	}
	var cert *x509.Certificate
	if certDER != nil {
		var err error
		if cert, err = x509.ParseCertificate(certDER); err != nil {
			return CreatedSP{}, fmt.Errorf("%w: certificate: %v", directory.ErrInvalidArgument, err)
		}
		if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
			return CreatedSP{}, fmt.Errorf("%w: certificate key must be RSA, as Entra requires", directory.ErrInvalidArgument)
		}
	}
	reg, err := o.dir.CreateApplication(ctx, bootstrap.TenantID, directory.ApplicationSpec{DisplayName: name})
	app := reg.App
	if err != nil {
		return CreatedSP{}, err
	}
	if cert != nil {
		if _, err := o.dir.AddCertificate(ctx, app.AppID, name, cert); err != nil {
			return CreatedSP{}, err
		}
		return CreatedSP{AppID: app.AppID, DisplayName: app.DisplayName, Tenant: bootstrap.TenantID}, nil
	}
	start := o.clk.Now().UTC()
	np, err := o.dir.AddPassword(ctx, app.AppID, directory.PasswordSpec{DisplayName: "rbac",
		Start: start, End: start.AddDate(years, 0, 0)})
	if err != nil {
		return CreatedSP{}, err
	}
	secret := np.Secret
	return CreatedSP{AppID: app.AppID, DisplayName: app.DisplayName, Password: &secret, Tenant: bootstrap.TenantID}, nil
}

// RotateKeys rotates the token signing key now.
func (o *Ops) RotateKeys(ctx context.Context) error {
	if o.keys == nil {
		return errors.New("key rotation needs a running server")
	}
	return o.keys.Rotate(ctx)
}
