package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/aksid/aksid/internal/clock"
)

// clockData is the clock view's.
type clockData struct {
	C       chrome
	CanMove bool
	Moved   string
}

// clockView shows aksid's clock; only a Global Administrator gets an
// enabled button to move it.
func (h *Handler) clockView(w http.ResponseWriter, r *http.Request, s *session) {
	admin, err := h.isGlobalAdmin(r.Context(), s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	h.render(w, http.StatusOK, clockPage, clockData{C: h.chrome(s, "Clock", "clock"), CanMove: admin, Moved: r.URL.Query().Get("moved")})
}

// moveClock advances aksid's clock: a POST with the session's CSRF token,
// from a Global Administrator (asked of Graph with the user's own token).
// The clock is the whole process's: it decides every credential's expiry
// in every tenant, which is the directory's highest role's to decide.
func (h *Handler) moveClock(w http.ResponseWriter, r *http.Request) {
	s := h.signed(w, r)
	if s == nil {
		return
	}
	admin, err := h.isGlobalAdmin(r.Context(), s)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	if !admin {
		h.fail(w, http.StatusForbidden, "Moving aksid's clock needs the Global Administrator role.")
		return
	}
	by := r.PostForm.Get("advance")
	d, err := clock.ParseDuration(by)
	if err != nil || d <= 0 || d > 100*365*24*time.Hour {
		c := h.chrome(s, "Clock", "clock")
		c.Error = "Enter how far to move the clock forward, such as 1d, 12h or 366d."
		h.render(w, http.StatusBadRequest, clockPage, clockData{C: c, CanMove: true})
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
