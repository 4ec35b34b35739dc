package portal

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ExpiringWithin is how close to its end a credential is shown expiring.
const ExpiringWithin = 30 * 24 * time.Hour

// Credential states on aksid's clock.
const (
	StateExpired  = "expired"
	StateExpiring = "expiring"
	StateValid    = "valid"
)

// Classify places a credential's end on aksid's clock.
func Classify(end, now time.Time) string {
	switch {
	case !end.After(now):
		return StateExpired
	case end.Sub(now) <= ExpiringWithin:
		return StateExpiring
	}
	return StateValid
}

// credRow is one secret or certificate on an application's timeline.
type credRow struct {
	Kind, Name, KeyID, State, Left string
	Start, End                     string
	// BarLeft and BarWidth place the credential's life on the timeline
	// (percent of the application's window); NowAt marks aksid's now.
	BarLeft, BarWidth, NowAt int
}

type appView struct {
	Name, AppID, ObjectID string
	Creds                 []credRow
}

// timeline lays an application's credentials out on aksid's clock.
func timeline(a graphApp, now time.Time) appView {
	v := appView{Name: a.DisplayName, AppID: a.AppID, ObjectID: a.ID}
	type c struct {
		kind string
		graphCred
	}
	var all []c
	for _, p := range a.PasswordCredentials {
		all = append(all, c{"Secret", p})
	}
	for _, k := range a.KeyCredentials {
		all = append(all, c{"Certificate", k})
	}
	if len(all) == 0 {
		return v
	}
	from, to := now, now.Add(ExpiringWithin)
	for _, x := range all {
		if !x.StartDateTime.IsZero() && x.StartDateTime.Before(from) {
			from = x.StartDateTime
		}
		if x.EndDateTime.After(to) {
			to = x.EndDateTime
		}
	}
	span := to.Sub(from)
	pct := func(t time.Time) int { return int(100 * float64(t.Sub(from)) / float64(span)) }
	slices.SortFunc(all, func(a, b c) int { return a.EndDateTime.Compare(b.EndDateTime) })
	for _, x := range all {
		start := x.StartDateTime
		if start.IsZero() {
			start = from
		}
		name := x.DisplayName
		if name == "" {
			name = "(no description)"
		}
		left, width := pct(start), max(pct(x.EndDateTime)-pct(start), 1)
		v.Creds = append(v.Creds, credRow{Kind: x.kind, Name: name, KeyID: x.KeyID, State: Classify(x.EndDateTime, now),
			Left: remaining(x.EndDateTime, now), Start: day(start), End: day(x.EndDateTime),
			BarLeft: left, BarWidth: min(width, 100-left), NowAt: pct(now)})
	}
	return v
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// remaining says how long a credential has left, or since when it ended.
func remaining(end, now time.Time) string {
	d := end.Sub(now)
	days := int((d.Abs() + 12*time.Hour) / (24 * time.Hour)) // the nearest whole day
	switch {
	case d <= 0 && days == 0:
		return "ended under 12 hours ago"
	case d <= 0:
		return "ended " + plural(days, "day") + " ago"
	case days == 0:
		return "ends in under 12 hours"
	}
	return "ends in " + plural(days, "day")
}

func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}

// chrome is what every signed-in page shows around its view.
type chrome struct {
	Title, Nav, User, CSRF, Now string
	Error                       string
}

func (h *Handler) chrome(s *session, title, nav string) chrome {
	return chrome{Title: title, Nav: nav, User: s.name, CSRF: s.csrf, Now: day(h.o.Clock.Now())}
}

// applications shows every application with its credentials' timeline;
// a directory writer gets a button to reset each one's secret.
func (h *Handler) applications(w http.ResponseWriter, r *http.Request, s *session) {
	apps, err := list[graphApp](r.Context(), h, s, graphAPI, "/v1.0/applications")
	if err != nil {
		h.failed(w, r, err)
		return
	}
	writer, err := h.isGlobalAdmin(r.Context(), s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	now := h.o.Clock.Now()
	views := make([]appView, 0, len(apps))
	for _, a := range apps {
		views = append(views, timeline(a, now))
	}
	slices.SortFunc(views, func(a, b appView) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	h.render(w, http.StatusOK, appsPage, map[string]any{"C": h.chrome(s, "Applications", "apps"), "Apps": views, "CanReset": writer})
}

// failed answers an Azure API's refusal: a session whose tokens are gone
// signs in again; anything else is the API's trouble, shown as such.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, err error) {
	var re *refusal
	if errors.Is(err, errSignIn) || errors.As(err, &re) && re.status == http.StatusUnauthorized {
		h.signIn(w, r)
		return
	}
	h.o.Log.ErrorContext(r.Context(), "portal: an Azure API request failed", "err", err)
	h.fail(w, http.StatusBadGateway, "Microsoft Graph or Resource Manager could not be read: "+err.Error())
}

// render writes a page with the portal's headers.
func (h *Handler) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	pageHeaders(w)
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		h.o.Log.Error("portal: rendering a page failed", "page", t.Name(), "err", err)
	}
}
