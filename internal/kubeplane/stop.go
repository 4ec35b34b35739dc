package kubeplane

import (
	"context"
	"strings"
	"time"
)

// closeCarried ends the connections carried to the cluster's server, as
// its server is about to stop: kube-apiserver drains open watches before
// it exits, and a client's would hold up the stop until it is killed.
func (p *Plane) closeCarried(id string) {
	p.mu.Lock()
	conns := make([]*touchConn, 0, len(p.open[strings.ToLower(id)]))
	for c := range p.open[strings.ToLower(id)] {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// stop stops the cluster's server, its controllers and the connections
// carried to it first.
func (p *Plane) stop(id string) {
	p.stopControllers(id)
	mu := p.lock(id)
	mu.Lock()
	defer mu.Unlock()
	p.closeCarried(id)
	p.cfg.Supervisor.Stop(id)
}

// stopControllers ends what runs for the cluster's current server.
func (p *Plane) stopControllers(id string) {
	p.mu.Lock()
	l := p.live[strings.ToLower(id)]
	delete(p.live, strings.ToLower(id))
	p.mu.Unlock()
	if l != nil {
		l.stop()
	}
}

// Run stops idle servers every interval, with their controllers, until ctx ends.
func (p *Plane) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// An open connection (a watch, a long exec) is use, however quiet.
		p.mu.Lock()
		var busy []string
		for k, conns := range p.open {
			if len(conns) > 0 {
				busy = append(busy, k)
			}
		}
		p.mu.Unlock()
		for _, k := range busy {
			p.cfg.Supervisor.Touch(k)
		}
		// The controllers' watches end first: an open one holds up
		// kube-apiserver's exit, and a connection meanwhile with it.
		p.cfg.Supervisor.StopIdle(p.stopControllers)
		p.mu.Lock()
		var gone []string
		for k, l := range p.live {
			if ep, ok := p.cfg.Supervisor.Running(k); !ok || ep != l.ep {
				gone = append(gone, k)
			}
		}
		p.mu.Unlock()
		for _, id := range gone {
			p.stopControllers(id)
		}
	}
}

// Close stops every controller and server, first ending the connections
// carried to them (an open kubectl watch would hold a server's exit).
func (p *Plane) Close() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.live))
	for k := range p.live {
		ids = append(ids, k)
	}
	carried := make([]string, 0, len(p.open))
	for k := range p.open {
		carried = append(carried, k)
	}
	p.mu.Unlock()
	for _, id := range ids {
		p.stopControllers(id)
	}
	for _, id := range carried {
		p.closeCarried(id)
	}
	p.cfg.Supervisor.Close()
}
