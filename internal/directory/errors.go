package directory

import (
	"errors"
	"fmt"
	"time"
)

// refusal is a domain refusal whose message is fit to show the client;
// it unwraps to the sentinel (ErrInvalidArgument, ErrConflict, …) that
// faces map to a status.
type refusal struct {
	kind error
	msg  string
	id   string // the missing object, for not-found refusals
}

func (r *refusal) Error() string { return r.kind.Error() + ": " + r.msg }
func (r *refusal) Unwrap() error { return r.kind }

func invalid(format string, args ...any) error {
	return &refusal{kind: ErrInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &refusal{kind: ErrConflict, msg: fmt.Sprintf(format, args...)}
}

// missing says which object of a request was not found: a membership
// change names two, and the client must learn which one is absent.
func missing(kind error, id string) error {
	return &refusal{kind: kind, msg: "object " + id + " not found", id: id}
}

// MissingID returns the ID a not-found refusal names.
func MissingID(err error) (string, bool) {
	var r *refusal
	if errors.As(err, &r) && r.id != "" {
		return r.id, true
	}
	return "", false
}

// Reason returns the client-facing text of a directory refusal, if err
// carries one.
func Reason(err error) (string, bool) {
	var r *refusal
	if errors.As(err, &r) {
		return r.msg, true
	}
	return "", false
}

// inAksidFrame moves a date a client computed on its own clock (which
// read clientNow at the time) into aksid's frame: az sends
// endDateTime = its now + 1 year, and that year must run on aksid's
// clock, which `aksid clock advance` may have moved. The shift is rounded
// to whole seconds so that an unmoved clock leaves dates as sent.
func (d *Directory) inAksidFrame(t, clientNow time.Time) time.Time {
	if t.IsZero() || clientNow.IsZero() {
		return t.UTC()
	}
	return t.Add(d.clk.Now().Sub(clientNow).Round(time.Second)).UTC()
}
