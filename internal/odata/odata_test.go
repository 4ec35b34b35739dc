package odata

import (
	"errors"
	"strings"
	"testing"
)

var appSchema = Schema{Type: "application", Props: map[string]Kind{
	"appId": String, "displayName": String, "identifierUris": Strings, "isFallbackPublicClient": Bool,
	"passwordCredentials": Unfilterable,
}}

var app = Values{
	"appId": "8D0A1A2B-0000-4000-8000-000000000001", "displayName": "My App",
	"identifierUris": []string{"api://my-app", "https://my.example/"}, "isFallbackPublicClient": false,
}

// The filters az 2.45 builds (role/custom.py and acs/_graph.py), with
// the lambda variable names it uses, and their combinations with "and".
func TestFiltersAzSends(t *testing.T) {
	cases := map[string]bool{
		"appId eq '8d0a1a2b-0000-4000-8000-000000000001'":                             true,
		"appId eq '00000000-0000-0000-0000-000000000000'":                             false,
		"displayName eq 'my app'":                                                     true,
		"startswith(displayName,'My')":                                                true,
		"startswith(displayName,'App')":                                               false,
		"identifierUris/any(s:s eq 'API://MY-APP')":                                   true,
		"identifierUris/any(x:x eq 'api://other')":                                    false,
		"servicePrincipalNames/any(c:c eq 'x')":                                       false, // checked below against an SP schema
		"displayName eq 'My App' and startswith(displayName,'My')":                    true,
		"appId eq 'x' or displayName eq 'My App'":                                     true,
		"not (displayName eq 'My App')":                                               false,
		"isFallbackPublicClient eq false":                                             true,
		"isFallbackPublicClient":                                                      false,
		"displayName in ('a', 'my app')":                                              true,
		"displayName ne null":                                                         true,
		"identifierUris/any()":                                                        true,
		"identifierUris/all(u: startswith(u, 'api://') or startswith(u, 'https://'))": true,
		"endswith(displayName,'APP')":                                                 true,
		"displayName eq 'it''s'":                                                      false,
		"(appId eq 'x' or (displayName eq 'My App')) and not isFallbackPublicClient":  true,
	}
	for f, want := range cases {
		schema := appSchema
		if strings.HasPrefix(f, "servicePrincipalNames") {
			schema = Schema{Type: "servicePrincipal", Props: map[string]Kind{"servicePrincipalNames": Strings}}
		}
		e, err := Parse(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		e, err = schema.Check(e)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := Eval(e, app); got != want {
			t.Errorf("%s = %v, want %v", f, got, want)
		}
	}
}

func TestPropertyNamesAreCaseInsensitive(t *testing.T) {
	e, _ := Parse("APPID eq '8d0a1a2b-0000-4000-8000-000000000001'")
	e, err := appSchema.Check(e)
	if err != nil || !Eval(e, app) {
		t.Fatalf("%v", err)
	}
	if c := e.(Compare); c.Path != "appId" {
		t.Fatalf("path %q not canonical", c.Path)
	}
}

func TestQuotesInLiterals(t *testing.T) {
	e, err := Parse("displayName eq 'O''Brien'")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.(Compare).Value.Str; got != "O'Brien" {
		t.Fatalf("literal %q", got)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct{ filter, code, msg string }{
		{"displayName eq 'x", CodeBadRequest, "Invalid filter clause: There is an unterminated string literal at position 15 in 'displayName eq 'x'."},
		{"displayName eq", CodeBadRequest, "Invalid filter clause: Expression expected at position 14 in 'displayName eq'."},
		{`displayName eq "x"`, CodeBadRequest, `Invalid filter clause: Syntax error: character '"' is not valid at position 15 in 'displayName eq "x"'.`},
		{"", CodeBadRequest, "Invalid filter clause: Expression expected at position 0 in ''."},
		{"displayName eq 'x' foo", CodeBadRequest, "Invalid filter clause: Syntax error at position 19 in 'displayName eq 'x' foo'."},
		{"foo eq 'x'", CodeBadRequest, "Could not find a property named 'foo' on type 'microsoft.graph.application'."},
		{"passwordCredentials/any(c:c eq 'x')", CodeUnsupported, "Unsupported or invalid query filter clause specified for property 'passwordCredentials' of resource 'Application'."},
		{"identifierUris eq 'x'", CodeUnsupported, "Unsupported or invalid query filter clause specified for property 'identifierUris' of resource 'Application'."},
		{"isFallbackPublicClient eq 'yes'", CodeBadRequest, "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."},
		{"frobnicate(displayName,'x')", CodeBadRequest, "Invalid filter clause: An unknown function with name 'frobnicate' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."},
		{"contains(displayName,'x')", CodeUnsupported, "Unsupported Query. The function 'contains' is not supported on directory objects."},
		{"displayName/any(c:c eq 'x')", CodeBadRequest, "Invalid filter clause: The parent value for a lambda operator must be a collection, and 'displayName' is not."},
		{"identifierUris/any(c:displayName eq 'x')", CodeUnsupported, "Unsupported query: inside a lambda only the range variable 'c' may be compared, not 'displayName'."},
		{"'x' eq displayName", CodeUnsupported, "Unsupported query: a filter clause must start with a property name, found a literal at position 0."},
		{strings.Repeat("(", 40) + "appId eq 'x'" + strings.Repeat(")", 40), CodeBadRequest, "Invalid filter clause: The filter is nested more than 32 levels deep."},
		{strings.Repeat("appId eq 'x' or ", 100) + "appId eq 'y'", CodeUnsupported, "The filter has more than 100 clauses."},
	}
	for _, c := range cases {
		e, err := Parse(c.filter)
		if err == nil {
			_, err = appSchema.Check(e)
		}
		var oe *Error
		if !errors.As(err, &oe) {
			t.Fatalf("%q: error %v", c.filter, err)
		}
		if oe.Code != c.code || oe.Message != c.msg {
			t.Errorf("%q:\n got %s: %s\nwant %s: %s", c.filter, oe.Code, oe.Message, c.code, c.msg)
		}
	}
	if _, err := Parse(strings.Repeat("a", MaxLength+1)); err == nil {
		t.Fatal("over-long filter accepted")
	}
}

// FuzzParse checks that no input panics, that parse errors are *Error,
// and that whatever parses and checks also evaluates.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"appId eq 'x'", "startswith(displayName,'a')", "identifierUris/any(s:s eq 'u')",
		"displayName eq 'a' and mailNickname eq 'b'", "not (a eq 'b') or c in ('d','e')",
		"identifierUris/any()", "x/all(v: startswith(v,'p'))", "a eq 'it''s'", "((((a))))", "a eq -1", "@odata.type eq 'x'",
	} {
		f.Add(s)
	}
	schema := Schema{Type: "application", Props: map[string]Kind{"appId": String, "displayName": String,
		"identifierUris": Strings, "a": String, "c": String, "x": Strings, "flag": Bool, "mailNickname": String}}
	obj := Values{"appId": "a", "displayName": "b", "identifierUris": []string{"u", "v"}, "a": "it's", "x": []string{"p"}, "flag": true}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) || oe.Message == "" {
				t.Fatalf("%q: untyped error %v", s, err)
			}
			return
		}
		if e == nil {
			t.Fatalf("%q: nil expression without error", s)
		}
		checked, err := schema.Check(e)
		if err != nil {
			var oe *Error
			if !errors.As(err, &oe) {
				t.Fatalf("%q: untyped check error %v", s, err)
			}
			return
		}
		_ = Eval(checked, obj)
	})
}
