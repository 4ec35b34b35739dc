package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aksid/aksid/internal/directory"
	"github.com/aksid/aksid/internal/odata"
)

// Page sizes: Graph's default for directory objects and its maximum $top.
const (
	defaultPage = 100
	maxPage     = 999
)

// listing says how one collection is filtered, paged and rendered.
type listing[T any] struct {
	set    string // collection name in @odata.context
	schema odata.Schema
	values func(T) odata.Values
	render func(T) obj
	// indexed names the properties the directory can look up without
	// reading the collection (directory.ByDisplayName, …).
	indexed []string
	// page reads one page; the directory's listings resume from a cursor.
	page func(ctx context.Context, q directory.Query[T]) (directory.Page[T], error)
}

// list answers a collection GET: $filter, then a page of $top items from
// the $skiptoken cursor, with @odata.nextLink while more remain (az
// follows it). The filter's indexed part narrows what the directory
// reads; the whole filter is then tested on each object read.
func list[T any](c *call, l listing[T]) error {
	q := c.r.URL.Query()
	if _, ok := q["$search"]; ok {
		return badRequestCode(odata.CodeUnsupported, "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	dq := directory.Query[T]{Limit: defaultPage, After: q.Get("$skiptoken"), Count: strings.EqualFold(q.Get("$count"), "true")}
	if fs, ok := q["$filter"]; ok {
		e, err := odata.Parse(fs[0])
		if err != nil {
			return err
		}
		if e, err = l.schema.Check(e); err != nil {
			return err
		}
		dq.Match = func(v T) bool { return odata.Eval(e, l.values(v)) }
		if p, ok := odata.Plan(e, func(prop string) bool { return slices.Contains(l.indexed, prop) }); ok {
			dq.Probe = &directory.Probe{Property: p.Prop, Values: p.Values, Prefix: p.Prefix}
		}
	}
	sel, err := selection(q.Get("$select"))
	if err != nil {
		return err
	}
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxPage {
			return badRequest("Invalid page size specified: '" + t + "'. Must be between 1 and 999 inclusive.")
		}
		dq.Limit = n
	}
	page, err := l.page(c.ctx(), dq)
	if errors.Is(err, directory.ErrBadCursor) {
		return badRequestCode("Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
	}
	if err != nil {
		return err
	}
	value := make([]obj, 0, len(page.Items))
	for _, it := range page.Items {
		value = append(value, project(l, it, sel))
	}
	resp := obj{"@odata.context": c.context(l.set), "value": value}
	if dq.Count {
		resp["@odata.count"] = page.Total
	}
	if page.Next != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", page.Next)
		resp["@odata.nextLink"] = c.base + c.r.URL.Path + "?" + next.Encode()
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
}

// selection is $select's property list (nil without it).
func selection(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			return nil, badRequest("Syntax error: character ',' is not valid at position 0 in '" + s + "'.")
		}
		out = append(out, p)
	}
	return out, nil
}

// project renders v with only the selected properties, as Graph answers
// $select: what the default rendering leaves out (a user's
// accountEnabled) comes from the object's values.
func project[T any](l listing[T], v T, sel []string) obj {
	full := l.render(v)
	if sel == nil {
		return full
	}
	values := l.values(v)
	out := obj{}
	for k, x := range full {
		if strings.HasPrefix(k, "@odata.") {
			out[k] = x
		}
	}
	for _, p := range sel {
		if x, ok := full[p]; ok {
			out[p] = x
		} else if x, ok := values[p]; ok {
			out[p] = x
		}
		// Graph refuses a property its type lacks; aksid models fewer
		// properties than Graph has, so one it does not know is left out
		// rather than refused: a client asking for a real one still works.
	}
	return out
}

// pageOf pages a collection already in memory (a group's members): the
// cursor is an offset into the matches.
func pageOf[T any](items []T) func(context.Context, directory.Query[T]) (directory.Page[T], error) {
	return func(_ context.Context, q directory.Query[T]) (directory.Page[T], error) {
		var page directory.Page[T]
		skip := 0
		if q.After != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(q.After, "o"))
			if err != nil || !strings.HasPrefix(q.After, "o") || n < 0 {
				return page, directory.ErrBadCursor
			}
			skip = n
		}
		var matched []T
		for _, it := range items {
			if q.Match == nil || q.Match(it) {
				matched = append(matched, it)
			}
		}
		skip = min(skip, len(matched))
		end := min(skip+q.Limit, len(matched))
		page.Items, page.Total = matched[skip:end], len(matched)
		if end < len(matched) {
			page.Next = "o" + strconv.Itoa(end)
		}
		return page, nil
	}
}

// extraString and extraStrings read an opaque property for filtering.
func extraString(e directory.Extra, name string) any {
	var s string
	if json.Unmarshal(e[name], &s) != nil {
		return nil
	}
	return s
}

func extraStrings(e directory.Extra, name string) []string {
	var s []string
	_ = json.Unmarshal(e[name], &s)
	return s
}
