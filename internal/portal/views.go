package portal

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aksid/aksid/internal/clock"
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

// applications shows every application with its credentials' timeline.
func (h *Handler) applications(w http.ResponseWriter, r *http.Request, s *session) {
	apps, err := graphList[graphApp](r.Context(), h, s.token, "/v1.0/applications")
	if err != nil {
		h.graphFailed(w, r, err)
		return
	}
	now := h.o.Clock.Now()
	views := make([]appView, 0, len(apps))
	for _, a := range apps {
		views = append(views, timeline(a, now))
	}
	slices.SortFunc(views, func(a, b appView) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	pageHeaders(w)
	_ = appsPage.Execute(w, map[string]any{"C": h.chrome(s, "Applications", "apps"), "Apps": views})
}

// clockData is the clock view's.
type clockData struct {
	C       chrome
	CanMove bool
	Moved   string
}

// clockView shows aksid's clock; only a Global Administrator gets an
// enabled button to move it.
func (h *Handler) clockView(w http.ResponseWriter, r *http.Request, s *session) {
	admin, err := h.isGlobalAdmin(r.Context(), s.token)
	if err != nil {
		h.graphFailed(w, r, err)
		return
	}
	pageHeaders(w)
	_ = clockPage.Execute(w, clockData{C: h.chrome(s, "Clock", "clock"), CanMove: admin, Moved: r.URL.Query().Get("moved")})
}

// moveClock advances aksid's clock: a POST with the session's CSRF token,
// from a Global Administrator (asked of Graph with the user's own token).
// The clock is the whole process's: it decides every credential's expiry
// in every tenant, which is the directory's highest role's to decide.
func (h *Handler) moveClock(w http.ResponseWriter, r *http.Request) {
	s := h.current(r)
	if s == nil || !h.csrfOK(w, r, s) {
		h.fail(w, http.StatusForbidden, "This form has expired. Reload the page and try again.")
		return
	}
	admin, err := h.isGlobalAdmin(r.Context(), s.token)
	if err != nil {
		h.graphFailed(w, r, err)
		return
	}
	if !admin {
		h.fail(w, http.StatusForbidden, "Moving aksid's clock needs the Global Administrator role.")
		return
	}
	by := r.PostForm.Get("advance")
	d, err := clock.ParseDuration(by)
	if err != nil || d <= 0 || d > 100*365*24*time.Hour {
		pageHeaders(w)
		w.WriteHeader(http.StatusBadRequest)
		c := h.chrome(s, "Clock", "clock")
		c.Error = "Enter how far to move the clock forward, such as 1d, 12h or 366d."
		_ = clockPage.Execute(w, clockData{C: c, CanMove: true})
		return
	}
	if err := h.o.Clock.Advance(r.Context(), d); err != nil {
		h.o.Log.ErrorContext(r.Context(), "portal: moving the clock failed", "err", err)
		h.fail(w, http.StatusInternalServerError, "The clock could not be moved.")
		return
	}
	h.o.Log.InfoContext(r.Context(), "portal: clock advanced", "by", d.String(), "user", s.name)
	http.Redirect(w, r, "/portal/clock?moved="+url.QueryEscape(by), http.StatusSeeOther)
}

// graphFailed answers a Graph refusal: an expired or refused token means
// signing in again.
func (h *Handler) graphFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ge *graphError
	if errors.As(err, &ge) && ge.status == http.StatusUnauthorized {
		h.signIn(w, r)
		return
	}
	h.o.Log.ErrorContext(r.Context(), "portal: Graph request failed", "err", err)
	h.fail(w, http.StatusBadGateway, "Microsoft Graph could not be read.")
}
