// Package armid parses and compares Azure Resource Manager resource IDs and scopes.
package armid

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every parse failure; faces render it as ARM's
// InvalidResourceId (a path) or LinkedInvalidPropertyId (a body property).
var ErrMalformed = errors.New("armid: malformed resource ID")

// MalformedError says which input failed and why.
type MalformedError struct {
	ID     string
	Reason string
}

func (e *MalformedError) Error() string {
	return "armid: malformed resource ID '" + e.ID + "': " + e.Reason
}

// Unwrap lets callers test errors.Is(err, ErrMalformed).
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// The keywords ARM spells one way in the IDs it returns, whatever the client sent.
const (
	kwSubscriptions  = "subscriptions"
	kwResourceGroups = "resourceGroups"
	kwProviders      = "providers"
	nsResources      = "Microsoft.Resources"
)

// ID is a parsed resource ID or scope: the root `/`, a subscription, a
// resource group, a provider namespace or a (possibly nested or extension)
// resource. It holds the canonical string only, so it is cheap to copy and
// compare, and its zero value is the root scope.
type ID struct {
	s string // canonical form without a trailing slash; "" is the root
}

// Parse reads s. Keywords (subscriptions, resourceGroups, providers) match
// in any case and come back in ARM's spelling; `//` collapses, a trailing
// `/` is ignored, and names, namespaces and types keep the case they came in.
func Parse(s string) (ID, error) {
	bad := func(reason string) (ID, error) { return ID{}, &MalformedError{ID: s, Reason: reason} }
	if s == "" {
		return bad("empty")
	}
	if s[0] != '/' {
		return bad("it must start with '/'")
	}
	if !utf8.ValidString(s) {
		return bad("invalid UTF-8")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return bad("control character")
	}
	segs := strings.FieldsFunc(s, func(r rune) bool { return r == '/' })
	if len(segs) == 0 {
		return ID{}, nil
	}
	// canonical stays true while s already is the canonical form, so the
	// common case returns s itself without building a new string.
	canonical := s[len(s)-1] != '/' && !strings.Contains(s, "//")
	keyword := func(i int, kw string) {
		if segs[i] != kw {
			segs[i], canonical = kw, false
		}
	}
	i := 0
	if asciiFold(segs[0], kwSubscriptions) {
		if len(segs) < 2 {
			return bad("subscription ID missing")
		}
		keyword(0, kwSubscriptions)
		i = 2
		if i < len(segs) && asciiFold(segs[i], kwResourceGroups) {
			if i+1 >= len(segs) {
				return bad("resource group name missing")
			}
			keyword(i, kwResourceGroups)
			i += 2
		}
	}
	if i == 0 && !asciiFold(segs[0], kwProviders) {
		return bad("it must start with '/subscriptions/' or '/providers/'")
	}
	// Provider blocks: providers/{namespace} then {type}/{name} pairs; a
	// further `providers` starts an extension resource on what came before.
	for i < len(segs) {
		if !asciiFold(segs[i], kwProviders) {
			return bad("unexpected segment '" + segs[i] + "'")
		}
		keyword(i, kwProviders)
		if i+1 >= len(segs) {
			return bad("provider namespace missing")
		}
		i += 2
		for i < len(segs) && !asciiFold(segs[i], kwProviders) {
			if i+1 >= len(segs) {
				return bad("resource type '" + segs[i] + "' has no name")
			}
			i += 2
		}
	}
	if canonical {
		return ID{s: s}, nil
	}
	return ID{s: "/" + strings.Join(segs, "/")}, nil
}

// MustParse is Parse for constants and tests; it panics on a malformed ID.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// String returns the canonical form; the root is "/".
func (id ID) String() string {
	if id.s == "" {
		return "/"
	}
	return id.s
}

// Key is the case-folded canonical form, for map keys and comparisons.
func (id ID) Key() string { return strings.ToLower(id.String()) }

// IsRoot reports whether id is the tenant root scope `/`.
func (id ID) IsRoot() bool { return id.s == "" }

// Equal compares case-insensitively, as ARM does, and agrees with Key
// (strings.EqualFold alone folds a few non-ASCII letters that ToLower
// keeps apart, so only ASCII takes the fast path).
func (id ID) Equal(other ID) bool {
	if isASCII(id.s) && isASCII(other.s) {
		return strings.EqualFold(id.s, other.s)
	}
	return id.Key() == other.Key()
}

// Contains reports whether other is id or lies beneath it (scope prefix
// semantics on whole segments, case-insensitive). The root contains all.
func (id ID) Contains(other ID) bool {
	p, o := id.s, other.s
	if p == "" {
		return true
	}
	if !isASCII(p) || !isASCII(o) {
		p, o = strings.ToLower(p), strings.ToLower(o)
	}
	return len(o) >= len(p) && strings.EqualFold(o[:len(p)], p) && (len(o) == len(p) || o[len(p)] == '/')
}

// MarshalText writes the canonical form (IDs travel in JSON as strings).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses b.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// segments splits the canonical form; the root has none.
func (id ID) segments() []string {
	if id.s == "" {
		return nil
	}
	return strings.Split(id.s[1:], "/")
}

// lastProviders is the index of the last `providers` keyword in segs, or -1.
// Keywords sit at even indexes only, so names equal to "providers" never count.
func lastProviders(segs []string) int {
	for i := len(segs) - 2; i >= 0; i-- {
		if i%2 == 0 && segs[i] == kwProviders {
			return i
		}
	}
	return -1
}

// SubscriptionID returns the subscription the ID lives in, or "".
func (id ID) SubscriptionID() string {
	segs := id.segments()
	if len(segs) >= 2 && segs[0] == kwSubscriptions {
		return segs[1]
	}
	return ""
}

// ResourceGroup returns the resource group the ID lives in, or "".
func (id ID) ResourceGroup() string {
	segs := id.segments()
	if len(segs) >= 4 && segs[0] == kwSubscriptions && segs[2] == kwResourceGroups {
		return segs[3]
	}
	return ""
}

// Provider returns the namespace of the ID's own type: the last provider
// block's namespace for resources, Microsoft.Resources for subscriptions,
// resource groups and provider namespaces (ARM models those as its own
// types), "" for the root.
func (id ID) Provider() string {
	segs := id.segments()
	lp := lastProviders(segs)
	switch {
	case len(segs) == 0:
		return ""
	case lp < 0 || len(segs) == lp+2:
		return nsResources
	default:
		return segs[lp+1]
	}
}

// ResourceType returns the full type, e.g. Microsoft.Network/virtualNetworks/subnets.
// Subscriptions, resource groups and bare provider namespaces give
// Microsoft.Resources/subscriptions, …/resourceGroups and …/providers; the root "".
func (id ID) ResourceType() string {
	segs := id.segments()
	lp := lastProviders(segs)
	switch {
	case len(segs) == 0:
		return ""
	case lp < 0 && len(segs) == 2:
		return nsResources + "/subscriptions"
	case lp < 0:
		return nsResources + "/resourceGroups"
	case len(segs) == lp+2:
		return nsResources + "/providers"
	}
	var b strings.Builder
	b.WriteString(segs[lp+1])
	for i := lp + 2; i < len(segs); i += 2 {
		b.WriteByte('/')
		b.WriteString(segs[i])
	}
	return b.String()
}

// Name returns the last name in the ID (the namespace for a bare provider
// namespace, the subscription ID for a subscription), or "" for the root.
func (id ID) Name() string {
	segs := id.segments()
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// Parent returns the enclosing scope: a child resource's parent resource,
// an extension resource's target, a top-level resource's resource group
// (or subscription, or the root), a resource group's subscription, a
// subscription's root. The root's parent is the root.
func (id ID) Parent() ID {
	segs := id.segments()
	n := len(segs)
	if n == 0 {
		return ID{}
	}
	cut := n - 2
	if lp := lastProviders(segs); lp >= 0 && n-lp <= 4 {
		cut = lp // a namespace or the first type/name pair: drop the whole block
	}
	if cut <= 0 {
		return ID{}
	}
	return ID{s: "/" + strings.Join(segs[:cut], "/")}
}

// Ancestors returns id and every enclosing scope up to and including the
// root, nearest first.
func (id ID) Ancestors() []ID {
	out := []ID{id}
	for cur := id; !cur.IsRoot(); {
		cur = cur.Parent()
		out = append(out, cur)
	}
	return out
}

func asciiFold(a, kw string) bool { return len(a) == len(kw) && strings.EqualFold(a, kw) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
