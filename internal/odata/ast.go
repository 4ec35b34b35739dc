// Package odata parses and evaluates the subset of OData's $filter that
// Microsoft Graph answers on directory objects: eq/ne/in comparisons,
// startswith/endswith, any/all lambdas over string collections, and
// and/or/not with parentheses.
package odata

import "fmt"

// Expr is a node of a parsed filter.
type Expr interface{ node() }

// And is true when both sides are.
type And struct{ L, R Expr }

// Or is true when either side is.
type Or struct{ L, R Expr }

// Not negates X.
type Not struct{ X Expr }

// Compare is `Path Op Value`. Op is one of eq, ne, gt, ge, lt, le.
type Compare struct {
	Path  string
	Op    string
	Value Literal
}

// In is `Path in (Values…)`.
type In struct {
	Path   string
	Values []Literal
}

// Func is a string function call, startswith or endswith, on a property.
type Func struct {
	Name string
	Path string
	Arg  string
}

// Lambda is `Path/any(Var: Body)` or `Path/all(Var: Body)`; an any() with
// no body asks whether the collection is non-empty. Inside Body the
// variable names the current element.
type Lambda struct {
	Path string
	Op   string // any or all
	Var  string
	Body Expr // nil for any()
}

func (And) node()     {}
func (Or) node()      {}
func (Not) node()     {}
func (Compare) node() {}
func (In) node()      {}
func (Func) node()    {}
func (Lambda) node()  {}

// LitKind is a literal's type.
type LitKind int

// Literal kinds.
const (
	LitString LitKind = iota + 1
	LitBool
	LitNull
	LitNumber
)

// Literal is a constant in a filter.
type Literal struct {
	Kind LitKind
	Str  string // string value, or the number's text
	Bool bool
}

// edmType names a literal's type the way OData's messages do.
func (l Literal) edmType() string {
	switch l.Kind {
	case LitString:
		return "Edm.String"
	case LitBool:
		return "Edm.Boolean"
	case LitNumber:
		return "Edm.Int32"
	}
	return "null"
}

// String renders a literal as it would appear in a filter.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return fmt.Sprintf("'%s'", l.Str)
	case LitBool:
		return fmt.Sprint(l.Bool)
	case LitNumber:
		return l.Str
	}
	return "null"
}

// Error is a refusal of a filter, with Graph's code and message.
type Error struct {
	Code    string // BadRequest (syntax) or Request_UnsupportedQuery
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Codes Graph uses for filter refusals.
const (
	CodeBadRequest  = "BadRequest"
	CodeUnsupported = "Request_UnsupportedQuery"
)
