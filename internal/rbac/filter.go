package rbac

import "strings"

// ParseAssignmentFilter reads the $filter ARM accepts when listing role
// assignments: atScope(), principalId eq '{id}' and assignedTo('{id}'),
// joined by "and". An empty filter is no filter.
func ParseAssignmentFilter(s string) (AssignmentFilter, error) {
	var f AssignmentFilter
	clauses, err := splitAnd(s)
	if err != nil {
		return f, err
	}
	for _, c := range clauses {
		switch {
		case strings.EqualFold(c, "atScope()"):
			f.AtScope = true
		case hasPrefixFold(c, "assignedTo(") && strings.HasSuffix(c, ")"):
			v, ok := quoted(c[len("assignedTo(") : len(c)-1])
			if !ok {
				return f, badFilter(s)
			}
			f.AssignedTo = v
		default:
			v, ok := eqClause(c, "principalId")
			if !ok {
				return f, badFilter(s)
			}
			f.PrincipalID = v
		}
	}
	return f, nil
}

// ParseRoleDefinitionFilter reads the $filter ARM accepts when listing
// role definitions: roleName eq '{name}' and type eq '{BuiltInRole|CustomRole}'.
func ParseRoleDefinitionFilter(s string) (RoleDefinitionFilter, error) {
	var f RoleDefinitionFilter
	clauses, err := splitAnd(s)
	if err != nil {
		return f, err
	}
	for _, c := range clauses {
		if v, ok := eqClause(c, "roleName"); ok {
			f.RoleName = v
		} else if v, ok := eqClause(c, "type"); ok {
			f.Type = v
		} else {
			return f, badFilter(s)
		}
	}
	return f, nil
}

func badFilter(s string) *Error {
	return errorf(CodeInvalidFilter, "The filter '%s' is not supported.", s)
}

// splitAnd splits s at " and " outside quoted strings.
func splitAnd(s string) ([]string, error) {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inQuote = !inQuote // '' inside a string toggles twice: still inside
		case !inQuote && i+5 <= len(s) && strings.EqualFold(s[i:i+5], " and "):
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 5
			i += 4
		}
	}
	if inQuote {
		return nil, badFilter(s)
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	for _, c := range out {
		if c == "" {
			return nil, badFilter(s)
		}
	}
	return out, nil
}

// eqClause reads `{prop} eq '{value}'` with prop matched case-insensitively.
func eqClause(c, prop string) (string, bool) {
	fields := strings.SplitN(c, " ", 3)
	if len(fields) != 3 || !strings.EqualFold(fields[0], prop) || !strings.EqualFold(fields[1], "eq") {
		return "", false
	}
	return quoted(strings.TrimSpace(fields[2]))
}

// quoted unwraps an OData string literal, where ” stands for '.
func quoted(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if strings.Count(inner, "'")%2 != 0 {
		return "", false
	}
	return strings.ReplaceAll(inner, "''", "'"), true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
