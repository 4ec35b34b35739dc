// Package azerr carries Azure's error codes out of the domain packages, with a kind instead of an HTTP status.
package azerr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a refusal; Status maps kinds to HTTP statuses for the
// faces, so no domain error ever names a status.
type Kind int

// Kinds of refusal. The zero Kind is an internal failure.
const (
	Invalid Kind = iota + 1
	NotFound
	Conflict
	Forbidden
	PreconditionFailed
	Unauthenticated
	MethodNotAllowed
	// Unavailable: a dependency (the store) is out of reach; a retry may
	// work.
	Unavailable
)

// statuses is the one kind → status table. The numbers are written out so
// that this package, which every domain imports, stays free of net/http.
var statuses = map[Kind]int{
	Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404,
	MethodNotAllowed: 405, Conflict: 409, PreconditionFailed: 412, Unavailable: 503,
}

// Status is the HTTP status a face answers a refusal of kind k with:
// 500 for the zero Kind and any kind the table does not know.
func Status(k Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return 500
}

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

// ResourceNotFound is ARM's 404 for the resource at id, its type as the
// message names it (a child's with its parent's name before the child's
// type: "Microsoft.ContainerService/managedClusters/c/agentPools").
func ResourceNotFound(typ, id string) *Error {
	segs := strings.Split(id, "/")
	group := ""
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], "resourceGroups") {
			group = segs[i+1]
			break
		}
	}
	return New(NotFound, "ResourceNotFound", "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		typ, segs[len(segs)-1], group)
}

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == k
}
