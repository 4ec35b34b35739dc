package odata

import (
	"fmt"
	"strings"
)

// Limits keep a hostile filter from costing more than a real one: Graph
// refuses long URLs and deep nesting too.
const (
	MaxLength = 4096 // characters of filter text
	MaxDepth  = 32   // nested parentheses, not and lambdas
	MaxTerms  = 100  // comparisons, functions and lambdas
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tComma
	tColon
	tSlash
)

type token struct {
	kind tokKind
	text string // identifier or number text, or the decoded string
	pos  int
}

// lex splits s into tokens. OData strings are single-quoted, a doubled
// quote inside standing for one quote.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case c == ':':
			toks = append(toks, token{tColon, ":", i})
			i++
		case c == '/':
			toks = append(toks, token{tSlash, "/", i})
			i++
		case c == '\'':
			var b strings.Builder
			start := i
			i++
			for {
				if i >= len(s) {
					return nil, syntaxErr("There is an unterminated string literal at position %d in '%s'.", start, s)
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{tString, b.String(), start})
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			start := i
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
			toks = append(toks, token{tNumber, s[start:i], start})
		case isIdentStart(c):
			start := i
			for i < len(s) && isIdentPart(s[i]) {
				i++
			}
			toks = append(toks, token{tIdent, s[start:i], start})
		default:
			return nil, syntaxErr("Syntax error: character '%c' is not valid at position %d in '%s'.", rune(c), i, s)
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '.' || c == '#' }

func syntaxErr(format string, args ...any) *Error {
	return &Error{Code: CodeBadRequest, Message: "Invalid filter clause: " + fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) *Error {
	return &Error{Code: CodeUnsupported, Message: fmt.Sprintf(format, args...)}
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	terms int
}

// Parse parses a $filter value.
func Parse(s string) (Expr, error) {
	if len(s) > MaxLength {
		return nil, syntaxErr("The filter is longer than %d characters.", MaxLength)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks}
	if p.peek().kind == tEOF {
		return nil, syntaxErr("Expression expected at position %d in '%s'.", 0, s)
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, syntaxErr("Syntax error at position %d in '%s'.", t.pos, s)
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(word string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, word)
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		if t.kind == tEOF {
			return t, syntaxErr("%s expected at position %d in '%s'.", what, t.pos, p.src)
		}
		return t, syntaxErr("%s expected at position %d in '%s'.", what, t.pos, p.src)
	}
	return t, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return syntaxErr("The filter is nested more than %d levels deep.", MaxDepth)
	}
	return nil
}

func (p *parser) term() error {
	p.terms++
	if p.terms > MaxTerms {
		return unsupported("The filter has more than %d clauses.", MaxTerms)
	}
	return nil
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = Or{l, r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = And{l, r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, error) {
	if !p.keyword("not") {
		return p.primary()
	}
	p.next()
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return Not{x}, nil
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "')' or operator"); err != nil {
			return nil, err
		}
		return e, nil
	case tIdent:
		if isLiteralWord(t.text) {
			return nil, unsupported("Unsupported query: a filter clause must start with a property name, found %s at position %d.", t.text, t.pos)
		}
		if p.toks[p.i+1].kind == tLParen {
			return p.function()
		}
		return p.pathExpr()
	case tString, tNumber:
		return nil, unsupported("Unsupported query: a filter clause must start with a property name, found a literal at position %d.", t.pos)
	case tEOF:
		return nil, syntaxErr("Expression expected at position %d in '%s'.", t.pos, p.src)
	}
	return nil, syntaxErr("Syntax error at position %d in '%s'.", t.pos, p.src)
}

func isLiteralWord(w string) bool {
	switch strings.ToLower(w) {
	case "true", "false", "null":
		return true
	}
	return false
}

// function parses startswith(path,'x') or endswith(path,'x').
func (p *parser) function() (Expr, error) {
	name := p.next()
	fn := strings.ToLower(name.text)
	switch fn {
	case "startswith", "endswith":
	case "contains", "substringof", "indexof", "tolower", "toupper", "length", "trim", "concat", "substring":
		return nil, unsupported("Unsupported Query. The function '%s' is not supported on directory objects.", name.text)
	default:
		return nil, syntaxErr("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", name.text)
	}
	if err := p.term(); err != nil {
		return nil, err
	}
	p.next() // (
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tComma, "','"); err != nil {
		return nil, err
	}
	arg, err := p.expect(tString, "String literal")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, "')'"); err != nil {
		return nil, err
	}
	return Func{Name: fn, Path: path, Arg: arg.text}, nil
}

// path reads ident('/'ident)*, stopping before a lambda operator.
func (p *parser) path() (string, error) {
	t, err := p.expect(tIdent, "Property name")
	if err != nil {
		return "", err
	}
	segs := []string{t.text}
	for p.peek().kind == tSlash {
		nt := p.toks[p.i+1]
		if nt.kind == tIdent && p.toks[p.i+2].kind == tLParen && isLambdaOp(nt.text) {
			break
		}
		p.next()
		s, err := p.expect(tIdent, "Property name")
		if err != nil {
			return "", err
		}
		segs = append(segs, s.text)
	}
	return strings.Join(segs, "/"), nil
}

func isLambdaOp(w string) bool {
	return strings.EqualFold(w, "any") || strings.EqualFold(w, "all")
}

func (p *parser) pathExpr() (Expr, error) {
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	if err := p.term(); err != nil {
		return nil, err
	}
	if p.peek().kind == tSlash {
		return p.lambda(path)
	}
	op := p.peek()
	if op.kind != tIdent {
		// A bare Boolean property reads as `prop eq true`.
		return Compare{Path: path, Op: "eq", Value: Literal{Kind: LitBool, Bool: true}}, nil
	}
	switch w := strings.ToLower(op.text); w {
	case "eq", "ne", "gt", "ge", "lt", "le":
		p.next()
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		return Compare{Path: path, Op: w, Value: v}, nil
	case "in":
		p.next()
		return p.in(path)
	case "has":
		return nil, unsupported("Unsupported query: operator 'has' is not supported.")
	case "and", "or":
		return Compare{Path: path, Op: "eq", Value: Literal{Kind: LitBool, Bool: true}}, nil
	}
	return nil, syntaxErr("Syntax error at position %d in '%s'.", op.pos, p.src)
}

func (p *parser) literal() (Literal, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return Literal{Kind: LitString, Str: t.text}, nil
	case tNumber:
		return Literal{Kind: LitNumber, Str: t.text}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return Literal{Kind: LitBool, Bool: true}, nil
		case "false":
			return Literal{Kind: LitBool}, nil
		case "null":
			return Literal{Kind: LitNull}, nil
		}
		return Literal{}, unsupported("Unsupported query: the right side of a comparison must be a literal, found '%s' at position %d.", t.text, t.pos)
	case tEOF:
		return Literal{}, syntaxErr("Expression expected at position %d in '%s'.", t.pos, p.src)
	}
	return Literal{}, syntaxErr("Syntax error at position %d in '%s'.", t.pos, p.src)
}

func (p *parser) in(path string) (Expr, error) {
	if _, err := p.expect(tLParen, "'('"); err != nil {
		return nil, err
	}
	var vals []Literal
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		if err := p.term(); err != nil {
			return nil, err
		}
		t := p.next()
		if t.kind == tRParen {
			return In{Path: path, Values: vals}, nil
		}
		if t.kind != tComma {
			return nil, syntaxErr("',' or ')' expected at position %d in '%s'.", t.pos, p.src)
		}
	}
}

// lambda parses /any(v: body), /all(v: body) or /any().
func (p *parser) lambda(path string) (Expr, error) {
	p.next() // /
	op := strings.ToLower(p.next().text)
	p.next() // (
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.peek().kind == tRParen && op == "any" {
		p.next()
		return Lambda{Path: path, Op: op}, nil
	}
	v, err := p.expect(tIdent, "Range variable")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tColon, "':'"); err != nil {
		return nil, err
	}
	body, err := p.or()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, "')'"); err != nil {
		return nil, err
	}
	return Lambda{Path: path, Op: op, Var: v.text, Body: body}, nil
}
