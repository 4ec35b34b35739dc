package odata

import (
	"strings"
)

// Kind is a filterable property's type.
type Kind int

// Property kinds.
const (
	String       Kind = iota + 1 // Edm.String (GUIDs are strings too)
	Bool                         // Edm.Boolean
	Strings                      // Collection(Edm.String)
	Unfilterable                 // a real property Graph refuses to filter on
)

// Schema lists an entity's properties for Check.
type Schema struct {
	Type  string          // Graph's type name, e.g. "application"
	Props map[string]Kind // canonical property name → kind
}

// resource is the entity name Graph's messages use ("Application").
func (s Schema) resource() string {
	if s.Type == "" {
		return ""
	}
	return strings.ToUpper(s.Type[:1]) + s.Type[1:]
}

// prop is a resolved property: its canonical name and kind.
type prop struct {
	name string
	kind Kind
}

// lookup finds a property case-insensitively, as Graph does.
func (s Schema) lookup(path string) (prop, error) {
	for name, k := range s.Props {
		if strings.EqualFold(name, path) {
			if k == Unfilterable {
				return prop{}, s.unsupportedProp(name)
			}
			return prop{name, k}, nil
		}
	}
	return prop{}, &Error{Code: CodeBadRequest, Message: "Could not find a property named '" + path + "' on type 'microsoft.graph." + s.Type + "'."}
}

func (s Schema) unsupportedProp(name string) *Error {
	return unsupported("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", name, s.resource())
}

func opKind(op string) string {
	switch op {
	case "eq":
		return "Equal"
	case "ne":
		return "NotEqual"
	case "gt":
		return "GreaterThan"
	case "ge":
		return "GreaterThanOrEqual"
	case "lt":
		return "LessThan"
	}
	return "LessThanOrEqual"
}

// Check resolves e's property names against s (case-insensitively, to
// their canonical spelling) and refuses clauses Graph would refuse.
func (s Schema) Check(e Expr) (Expr, error) {
	return s.check(e, "")
}

func (s Schema) check(e Expr, lambdaVar string) (Expr, error) {
	switch x := e.(type) {
	case And:
		l, err := s.check(x.L, lambdaVar)
		if err != nil {
			return nil, err
		}
		r, err := s.check(x.R, lambdaVar)
		return And{l, r}, err
	case Or:
		l, err := s.check(x.L, lambdaVar)
		if err != nil {
			return nil, err
		}
		r, err := s.check(x.R, lambdaVar)
		return Or{l, r}, err
	case Not:
		in, err := s.check(x.X, lambdaVar)
		return Not{in}, err
	case Compare:
		p, err := s.scalar(x.Path, lambdaVar)
		if err != nil {
			return nil, err
		}
		if err := typesMatch(p.kind, x.Value, x.Op); err != nil {
			return nil, err
		}
		x.Path = p.name
		return x, nil
	case In:
		p, err := s.scalar(x.Path, lambdaVar)
		if err != nil {
			return nil, err
		}
		for _, v := range x.Values {
			if err := typesMatch(p.kind, v, "eq"); err != nil {
				return nil, err
			}
		}
		x.Path = p.name
		return x, nil
	case Func:
		p, err := s.scalar(x.Path, lambdaVar)
		if err != nil {
			return nil, err
		}
		if p.kind != String {
			return nil, s.unsupportedProp(p.name)
		}
		x.Path = p.name
		return x, nil
	case Lambda:
		if lambdaVar != "" {
			return nil, unsupported("Unsupported query: nested lambda operators are not supported.")
		}
		p, err := s.lookup(x.Path)
		if err != nil {
			return nil, err
		}
		if p.kind != Strings {
			return nil, &Error{Code: CodeBadRequest, Message: "Invalid filter clause: The parent value for a lambda operator must be a collection, and '" + p.name + "' is not."}
		}
		x.Path = p.name
		if x.Body == nil {
			return x, nil
		}
		body, err := s.check(x.Body, x.Var)
		x.Body = body
		return x, err
	}
	return nil, syntaxErr("unknown expression")
}

// scalar resolves a comparison's left side: the lambda variable (a
// string element) or a single-valued property.
func (s Schema) scalar(path, lambdaVar string) (prop, error) {
	if lambdaVar != "" {
		if path == lambdaVar {
			return prop{path, String}, nil
		}
		return prop{}, unsupported("Unsupported query: inside a lambda only the range variable '%s' may be compared, not '%s'.", lambdaVar, path)
	}
	p, err := s.lookup(path)
	if err != nil {
		return prop{}, err
	}
	if p.kind == Strings {
		return prop{}, s.unsupportedProp(p.name)
	}
	return p, nil
}

func typesMatch(k Kind, v Literal, op string) error {
	if v.Kind == LitNull {
		return nil
	}
	want := LitString
	left := "Edm.String"
	if k == Bool {
		want, left = LitBool, "Edm.Boolean"
	}
	if v.Kind != want {
		return &Error{Code: CodeBadRequest, Message: "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types '" +
			left + "' and '" + v.edmType() + "' for operator kind '" + opKind(op) + "'."}
	}
	return nil
}

// Values are an object's filterable properties: a string, a bool, nil or
// a []string for each canonical name.
type Values map[string]any

// Eval tells whether obj satisfies a checked expression. Strings compare
// case-insensitively, as Entra compares directory properties.
func Eval(e Expr, obj Values) bool {
	return eval(e, obj, "", "")
}

func eval(e Expr, obj Values, lambdaVar, elem string) bool {
	get := func(path string) any {
		if lambdaVar != "" && path == lambdaVar {
			return elem
		}
		return obj[path]
	}
	switch x := e.(type) {
	case And:
		return eval(x.L, obj, lambdaVar, elem) && eval(x.R, obj, lambdaVar, elem)
	case Or:
		return eval(x.L, obj, lambdaVar, elem) || eval(x.R, obj, lambdaVar, elem)
	case Not:
		return !eval(x.X, obj, lambdaVar, elem)
	case Compare:
		return compare(get(x.Path), x.Op, x.Value)
	case In:
		v := get(x.Path)
		for _, lit := range x.Values {
			if compare(v, "eq", lit) {
				return true
			}
		}
		return false
	case Func:
		s, ok := get(x.Path).(string)
		if !ok {
			return false
		}
		if x.Name == "endswith" {
			return len(s) >= len(x.Arg) && strings.EqualFold(s[len(s)-len(x.Arg):], x.Arg)
		}
		return len(s) >= len(x.Arg) && strings.EqualFold(s[:len(x.Arg)], x.Arg)
	case Lambda:
		list, _ := obj[x.Path].([]string)
		if x.Body == nil {
			return len(list) > 0
		}
		for _, item := range list {
			hit := eval(x.Body, obj, x.Var, item)
			if x.Op == "any" && hit {
				return true
			}
			if x.Op == "all" && !hit {
				return false
			}
		}
		return x.Op == "all"
	}
	return false
}

func compare(v any, op string, lit Literal) bool {
	if lit.Kind == LitNull {
		isNull := v == nil
		if s, ok := v.(string); ok && s == "" {
			isNull = true
		}
		if op == "ne" {
			return !isNull
		}
		return op == "eq" && isNull
	}
	switch val := v.(type) {
	case bool:
		if lit.Kind != LitBool {
			return false
		}
		switch op {
		case "eq":
			return val == lit.Bool
		case "ne":
			return val != lit.Bool
		}
		return false
	case string:
		if lit.Kind != LitString {
			return false
		}
		c := strings.Compare(strings.ToLower(val), strings.ToLower(lit.Str))
		switch op {
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		case "le":
			return c <= 0
		}
	case nil:
		return op == "ne"
	}
	return false
}
