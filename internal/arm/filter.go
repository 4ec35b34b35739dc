package arm

import (
	"strings"

	"github.com/aksid/aksid/internal/azerr"
	"github.com/aksid/aksid/internal/odata"
	"github.com/aksid/aksid/internal/resources"
)

// resourceFilter is the part of ARM's resource-list $filter that az and
// the SDKs send: `az resource list -g G --resource-type T -n N` asks for
// "resourceGroup eq 'G' and resourceType eq 'T' and name eq 'N'", and
// `--tag k=v` for "tagName eq 'k' and tagValue eq 'v'".
type resourceFilter struct {
	group, typ, name string
	tagName, tagVal  string
	location         string
	none             bool // the filter contradicts itself or the path
}

func parseResourceFilter(f string) (resourceFilter, error) {
	var rf resourceFilter
	if strings.TrimSpace(f) == "" {
		return rf, nil
	}
	bad := azerr.New(azerr.Invalid, "InvalidFilterInQueryString",
		"Invalid $filter '%s' specified in the query string. Supported: resourceGroup, resourceType, name, location, tagName and tagValue with eq '<value>', joined by and.", f)
	expr, err := odata.Parse(f)
	if err != nil {
		return rf, bad
	}
	fields := map[string]*string{"resourcegroup": &rf.group, "resourcetype": &rf.typ, "name": &rf.name,
		"location": &rf.location, "tagname": &rf.tagName, "tagvalue": &rf.tagVal}
	var walk func(e odata.Expr) bool
	walk = func(e odata.Expr) bool {
		switch e := e.(type) {
		case odata.And:
			return walk(e.L) && walk(e.R)
		case odata.Compare:
			if e.Op != "eq" || e.Value.Kind != odata.LitString {
				return false
			}
			field, ok := fields[strings.ToLower(e.Path)]
			if !ok {
				return false
			}
			if *field != "" && !strings.EqualFold(*field, e.Value.Str) {
				rf.none = true // two values for one field match nothing
			}
			*field = e.Value.Str
			return true
		}
		return false
	}
	if !walk(expr) {
		return resourceFilter{}, bad
	}
	return rf, nil
}

// scope narrows a subscription scope to the filter's group.
func (rf resourceFilter) scope(sub string) string {
	if rf.group == "" {
		return sub
	}
	return sub + "/resourceGroups/" + rf.group
}

// inGroup applies the filter under a group's path: a filter naming
// another group matches nothing.
func (rf resourceFilter) inGroup(group string) resourceFilter {
	if rf.group != "" && !strings.EqualFold(rf.group, group) {
		rf.none = true
	}
	rf.group = ""
	return rf
}

func (rf resourceFilter) keep(r resources.GenericResource) bool {
	if rf.none || (rf.name != "" && !strings.EqualFold(r.Name, rf.name)) ||
		(rf.location != "" && !strings.EqualFold(r.Location, rf.location)) {
		return false
	}
	if rf.tagName == "" {
		return true
	}
	// Tag names compare case-insensitively in ARM, values exactly.
	for k, v := range r.Tags {
		if strings.EqualFold(k, rf.tagName) && (rf.tagVal == "" || v == rf.tagVal) {
			return true
		}
	}
	return false
}
