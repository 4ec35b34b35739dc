package kubeplane

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// LoadBalancers acts in Azure for Services of type LoadBalancer, as the
// cluster's own identity (cloudprovider.Service).
type LoadBalancers interface {
	// EnsureService gives the Service a public IP and load-balancer
	// frontend and returns the IP; the error carries Azure's words.
	EnsureService(ctx context.Context, clusterID string, svc ServiceRef) (ip string, err error)
	// DeleteService removes what EnsureService made.
	DeleteService(ctx context.Context, clusterID string, svc ServiceRef) error
}

// ServiceRef is a Service as the cloud provider needs it.
type ServiceRef struct {
	Namespace, Name, UID string
	Ports                []ServicePort
}

// ServicePort is one of a Service's ports.
type ServicePort struct {
	Name     string
	Protocol string // TCP, UDP or SCTP
	Port     int
	NodePort int
}

// Pacing of the service controller; variables so tests can shorten them.
var (
	// retryFirst is the wait after a first failure, doubling up to retryMax.
	retryFirst = 5 * time.Second
	retryMax   = time.Minute
	// watchFor bounds one watch, under the API client's 30 s timeout.
	watchFor = 20 * time.Second
	// watchPause follows a failed list or watch.
	watchPause = time.Second
)

// cleanupFinalizer holds a Service until its load balancer is gone, as
// the upstream service controller does.
const cleanupFinalizer = "service.kubernetes.io/load-balancer-cleanup"

const eventComponent = "service-controller"

// service is the part of a Service the controller reads.
type service struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Type              string `json:"type"`
		LoadBalancerClass string `json:"loadBalancerClass"`
		Ports             []struct {
			Name     string `json:"name"`
			Protocol string `json:"protocol"`
			Port     int    `json:"port"`
			NodePort int    `json:"nodePort"`
		} `json:"ports"`
	} `json:"spec"`
	Status struct {
		LoadBalancer struct {
			Ingress []map[string]any `json:"ingress"`
		} `json:"loadBalancer"`
	} `json:"status"`
}

func (s *service) ref() ServiceRef {
	r := ServiceRef{Namespace: s.Metadata.Namespace, Name: s.Metadata.Name, UID: s.Metadata.UID}
	for _, p := range s.Spec.Ports {
		r.Ports = append(r.Ports, ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port, NodePort: p.NodePort})
	}
	return r
}

func (s *service) path() string {
	return "/api/v1/namespaces/" + s.Metadata.Namespace + "/services/" + s.Metadata.Name
}

// serviceController is cloud-provider-azure's service controller for one
// running API server.
type serviceController struct {
	k       Kube
	cluster string
	lb      LoadBalancers
	log     *slog.Logger
	retry   map[string]*backoff            // by Service UID
	events  map[string]map[string]*evented // by Service UID, then event
}

type backoff struct {
	next  time.Time
	delay time.Duration
}

// evented is an Event already recorded, whose repeats bump its count.
type evented struct {
	name  string
	count int
}

// runServices gives LoadBalancer Services their IPs until ctx ends: it
// lists the Services, acts, and watches for the next change or retry.
func runServices(ctx context.Context, k Kube, clusterID string, lb LoadBalancers, log *slog.Logger) {
	c := &serviceController{k: k, cluster: clusterID, lb: lb, log: log,
		retry: map[string]*backoff{}, events: map[string]map[string]*evented{}}
	for ctx.Err() == nil {
		rv, err := c.sync(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("services not listed", "cluster", clusterID, "err", err)
			}
			pause(ctx, watchPause)
			continue
		}
		c.wait(ctx, rv)
	}
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// sync acts on every Service once and returns the list's resourceVersion.
func (c *serviceController) sync(ctx context.Context) (string, error) {
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []service `json:"items"`
	}
	if err := c.k.Get(ctx, "/api/v1/services", &list); err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for i := range list.Items {
		s := &list.Items[i]
		seen[s.Metadata.UID] = true
		ours := s.Spec.Type == "LoadBalancer" && s.Spec.LoadBalancerClass == ""
		switch {
		case s.Metadata.DeletionTimestamp != nil || !ours:
			delete(c.retry, s.Metadata.UID)
			if slices.Contains(s.Metadata.Finalizers, cleanupFinalizer) {
				c.release(ctx, s, ours)
			}
		case len(s.Status.LoadBalancer.Ingress) > 0:
			delete(c.retry, s.Metadata.UID)
		default:
			if b := c.retry[s.Metadata.UID]; b == nil || !time.Now().Before(b.next) {
				c.ensure(ctx, s)
			}
		}
	}
	for uid := range c.retry {
		if !seen[uid] {
			delete(c.retry, uid)
		}
	}
	for uid := range c.events {
		if !seen[uid] {
			delete(c.events, uid)
		}
	}
	return list.Metadata.ResourceVersion, nil
}

// ensure asks Azure for the Service's load balancer and shows the outcome
// as the upstream controller does: in its status and its events.
func (c *serviceController) ensure(ctx context.Context, s *service) {
	if !slices.Contains(s.Metadata.Finalizers, cleanupFinalizer) {
		patch := map[string]any{"metadata": map[string]any{"resourceVersion": s.Metadata.ResourceVersion,
			"finalizers": append(slices.Clone(s.Metadata.Finalizers), cleanupFinalizer)}}
		if err := c.k.Do(ctx, http.MethodPatch, s.path(), mergePath, patch, nil); err != nil {
			return // changed meanwhile, or gone: the next list decides
		}
	}
	c.event(ctx, s, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
	ip, err := c.lb.EnsureService(ctx, c.cluster, s.ref())
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		status := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{
			"ingress": []any{map[string]any{"ip": ip, "ipMode": "VIP"}}}}}
		if err = c.k.Do(ctx, http.MethodPatch, s.path()+"/status", mergePath, status, nil); err == nil {
			delete(c.retry, s.Metadata.UID)
			c.event(ctx, s, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
			return
		}
	}
	c.event(ctx, s, "Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to ensure load balancer: "+err.Error())
	b := c.retry[s.Metadata.UID]
	if b == nil {
		b = &backoff{delay: retryFirst}
		c.retry[s.Metadata.UID] = b
	} else {
		b.delay = min(2*b.delay, retryMax)
	}
	b.next = time.Now().Add(b.delay)
}

// release removes the Service's load balancer (best effort) and then
// its finalizer, so a deletion never hangs on Azure; a Service that is
// no longer of type LoadBalancer also loses its ingress.
func (c *serviceController) release(ctx context.Context, s *service, stillLB bool) {
	c.event(ctx, s, "Normal", "DeletingLoadBalancer", "Deleting load balancer")
	if err := c.lb.DeleteService(ctx, c.cluster, s.ref()); err != nil {
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("load balancer not removed", "cluster", c.cluster, "service", s.Metadata.Namespace+"/"+s.Metadata.Name, "err", err)
		c.event(ctx, s, "Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to delete load balancer: "+err.Error())
	} else {
		c.event(ctx, s, "Normal", "DeletedLoadBalancer", "Deleted load balancer")
	}
	if s.Metadata.DeletionTimestamp == nil && !stillLB && len(s.Status.LoadBalancer.Ingress) > 0 {
		clear := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": nil}}}
		if err := c.k.Do(ctx, http.MethodPatch, s.path()+"/status", mergePath, clear, nil); err != nil {
			return
		}
	}
	// A JSON patch that tests the entry removes exactly it, whatever else
	// changed meanwhile; a failed test waits for the next list.
	i := slices.Index(s.Metadata.Finalizers, cleanupFinalizer)
	at := "/metadata/finalizers/" + strconv.Itoa(i)
	patch := []any{map[string]any{"op": "test", "path": at, "value": cleanupFinalizer}, map[string]any{"op": "remove", "path": at}}
	if err := c.k.Do(ctx, http.MethodPatch, s.path(), "application/json-patch+json", patch, nil); err != nil && !IsNotFound(err) {
		c.log.Debug("finalizer not removed", "cluster", c.cluster, "service", s.Metadata.Namespace+"/"+s.Metadata.Name, "err", err)
	}
}

// event records a core/v1 Event on the Service; a repeat of the same one
// bumps its count, as client-go's correlator does, instead of adding more.
func (c *serviceController) event(ctx context.Context, s *service, typ, reason, message string) {
	uid := s.Metadata.UID
	key := typ + "\x00" + reason + "\x00" + message
	events := c.events[uid]
	if events == nil {
		events = map[string]*evented{}
		c.events[uid] = events
	}
	now := time.Now().UTC().Format(time.RFC3339)
	collection := "/api/v1/namespaces/" + s.Metadata.Namespace + "/events"
	if e := events[key]; e != nil {
		err := c.k.Do(ctx, http.MethodPatch, collection+"/"+e.name, mergePath, map[string]any{"count": e.count + 1, "lastTimestamp": now}, nil)
		if err == nil {
			e.count++
			return
		}
		if !IsNotFound(err) {
			c.log.Debug("event not recorded", "cluster", c.cluster, "reason", reason, "err", err)
			return
		}
	}
	name, err := recordEvent(ctx, c.k, "Service", s.Metadata, eventComponent, typ, reason, message)
	if err != nil {
		c.log.Debug("event not recorded", "cluster", c.cluster, "reason", reason, "err", err)
		return
	}
	events[key] = &evented{name: name, count: 1}
}

// wait returns at the first change to any Service after rv, at the next
// retry, or after watchFor.
func (c *serviceController) wait(ctx context.Context, rv string) {
	until := time.Now().Add(watchFor)
	for _, b := range c.retry {
		if b.next.Before(until) {
			until = b.next
		}
	}
	watchChange(ctx, c.k, "/api/v1/services", rv, until)
}

// watchChange returns at the first change to the collection at path
// after resourceVersion rv, or at until (at most watchFor from now).
func watchChange(ctx context.Context, k Kube, path, rv string, until time.Time) {
	wctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	q := url.Values{"watch": {"1"}, "resourceVersion": {rv}, "timeoutSeconds": {strconv.Itoa(int(watchFor / time.Second))}}
	req, err := http.NewRequestWithContext(wctx, http.MethodGet, k.Base+path+"?"+q.Encode(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.HTTP.Do(req)
	if err != nil {
		pause(wctx, watchPause)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		pause(wctx, watchPause)
		return
	}
	// Any event, an ERROR (an expired resourceVersion) included, means
	// list again.
	var ev struct {
		Type string `json:"type"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&ev)
}
