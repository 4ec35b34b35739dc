package graph

import (
	"encoding/json"
	"net/http"
	"net/url"
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

// listing says how one collection is filtered and rendered.
type listing[T any] struct {
	set    string // collection name in @odata.context
	schema odata.Schema
	values func(T) odata.Values
	render func(T) obj
}

// list answers a collection GET: $filter, then a page of $top items from
// the $skiptoken offset, with @odata.nextLink while more remain (az
// follows it). Items arrive in the store's stable key order.
func list[T any](c *call, items []T, l listing[T]) error {
	q := c.r.URL.Query()
	if _, ok := q["$search"]; ok {
		return badRequestCode(odata.CodeUnsupported, "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	matched := items
	if fs, ok := q["$filter"]; ok {
		e, err := odata.Parse(fs[0])
		if err != nil {
			return err
		}
		if e, err = l.schema.Check(e); err != nil {
			return err
		}
		matched = nil
		for _, it := range items {
			if odata.Eval(e, l.values(it)) {
				matched = append(matched, it)
			}
		}
	}
	top := defaultPage
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > maxPage {
			return badRequest("Invalid page size specified: '" + t + "'. Must be between 1 and 999 inclusive.")
		}
		top = n
	}
	skip := 0
	if st := q.Get("$skiptoken"); st != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(st, "o"))
		if err != nil || !strings.HasPrefix(st, "o") || n < 0 {
			return badRequestCode("Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
		}
		skip = n
	}
	skip = min(skip, len(matched))
	end := min(skip+top, len(matched))
	value := make([]obj, 0, end-skip)
	for _, it := range matched[skip:end] {
		value = append(value, l.render(it))
	}
	resp := obj{"@odata.context": c.context(l.set), "value": value}
	if strings.EqualFold(q.Get("$count"), "true") {
		resp["@odata.count"] = len(matched)
	}
	if end < len(matched) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", "o"+strconv.Itoa(end))
		resp["@odata.nextLink"] = c.base + c.r.URL.Path + "?" + next.Encode()
	}
	writeJSON(c.w, http.StatusOK, resp)
	return nil
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
