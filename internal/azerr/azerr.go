// Package azerr carries Azure's error codes out of the domain packages, with a kind instead of an HTTP status.
package azerr

import (
	"errors"
	"fmt"
)

// Kind classifies a refusal; each face maps kinds to its own status codes.
type Kind int

// Kinds of refusal.
const (
	Invalid Kind = iota + 1
	NotFound
	Conflict
	Forbidden
	PreconditionFailed
	Unauthenticated
)

// Error is a refusal with Azure's code and message.
type Error struct {
	Kind    Kind
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New builds an Error with a formatted message.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
