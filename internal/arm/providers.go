package arm

import (
	"github.com/aksid/aksid/internal/resources"
)

// Resource providers: /subscriptions/{s}/providers[/{ns}[/register|unregister]].

func (h *Handler) listProviders(c *call) error {
	return c.list(h.res.ListProviders(c.ctx(), c.subID()))
}

func (h *Handler) getProvider(c *call) error {
	return c.reply(h.res.GetProvider(c.ctx(), c.subID(), c.segs[3]))
}

// registerProvider needs the namespace's own action, {ns}/register/action.
func (h *Handler) registerProvider(c *call) error {
	if err := h.allow(c, c.segs[3]+"/"+c.low[4]+"/action", c.id); err != nil {
		return err
	}
	return c.reply(h.res.RegisterProvider(c.ctx(), c.subID(), c.segs[3], resources.Change(c.low[4])))
}

// Preview features: /subscriptions/{s}/providers/Microsoft.Features/[providers/{ns}/]features[/{name}[/register|unregister]].

func (h *Handler) listAllFeatures(c *call) error {
	return c.list(h.res.ListFeatures(c.ctx(), c.subID(), ""))
}

func (h *Handler) listFeatures(c *call) error {
	return c.list(h.res.ListFeatures(c.ctx(), c.subID(), c.segs[5]))
}

func (h *Handler) getFeature(c *call) error {
	return c.reply(h.res.GetFeature(c.ctx(), c.subID(), c.segs[5], c.segs[7]))
}

func (h *Handler) registerFeature(c *call) error {
	return c.reply(h.res.RegisterFeature(c.ctx(), c.subID(), c.segs[5], c.segs[7], resources.Register))
}

func (h *Handler) unregisterFeature(c *call) error {
	return c.reply(h.res.RegisterFeature(c.ctx(), c.subID(), c.segs[5], c.segs[7], resources.Unregister))
}
