package odata

// Probe is the part of a filter an index can answer: the objects whose
// property Prop equals one of Values or, when Values is empty, starts with
// Prefix. The filter is still evaluated on what the probe returns, so a
// probe need only never miss a match.
type Probe struct {
	Prop   string
	Values []string
	Prefix string
}

// exact tells a probe by values, the narrower kind, from a prefix probe.
func (p Probe) exact() bool { return len(p.Values) > 0 }

// Plan finds a probe for a checked filter e over the properties indexed
// names (for a collection property, its any() lambdas). ok is false when
// no index can narrow e, and every object must then be tested.
func Plan(e Expr, indexed func(prop string) bool) (p Probe, ok bool) {
	switch x := e.(type) {
	case Compare:
		if x.Op == "eq" && x.Value.Kind == LitString && indexed(x.Path) {
			return Probe{Prop: x.Path, Values: []string{x.Value.Str}}, true
		}
	case In:
		if !indexed(x.Path) || len(x.Values) == 0 {
			return Probe{}, false
		}
		p := Probe{Prop: x.Path}
		for _, v := range x.Values {
			if v.Kind != LitString {
				return Probe{}, false
			}
			p.Values = append(p.Values, v.Str)
		}
		return p, true
	case Func:
		if x.Name == "startswith" && indexed(x.Path) {
			return Probe{Prop: x.Path, Prefix: x.Arg}, true
		}
	case Lambda:
		if x.Op != "any" || x.Body == nil || !indexed(x.Path) {
			return Probe{}, false
		}
		// Inside the lambda the range variable stands for each element;
		// a probe on it is a probe on the collection.
		inner, ok := Plan(x.Body, func(prop string) bool { return prop == x.Var })
		if !ok {
			return Probe{}, false
		}
		inner.Prop = x.Path
		return inner, true
	case And:
		l, lok := Plan(x.L, indexed)
		r, rok := Plan(x.R, indexed)
		switch {
		case lok && rok && r.exact() && !l.exact():
			return r, true
		case lok:
			return l, true
		case rok:
			return r, true
		}
	case Or:
		// Both sides exact on one property: the union of their values.
		l, lok := Plan(x.L, indexed)
		r, rok := Plan(x.R, indexed)
		if lok && rok && l.exact() && r.exact() && l.Prop == r.Prop {
			return Probe{Prop: l.Prop, Values: append(l.Values, r.Values...)}, true
		}
	}
	return Probe{}, false
}
