package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aksid/aksid/internal/store"
)

// Decisions read each principal's assignments through the store's
// principal index and keep them, grants per principal, in a bounded
// cache; memory then grows with the principals that call, not with the
// directory. Every write of an assignment or a custom role also writes a
// new generation in its transaction: a Service that sees the generation
// change forgets what it cached (at each decision when other processes
// write the store, else at Refresh), and its own writes evict at once.

const (
	kindMeta      = "rbac_meta"
	generationKey = "generation"
	// maxCached bounds the principals whose grants are cached; past it
	// the cache starts over, which costs one store read per principal.
	maxCached = 20_000
)

// bumpGeneration records, in tx, that assignments or roles changed.
func bumpGeneration(tx store.Tx) error {
	return tx.Put(kindMeta, generationKey, []byte(newGeneration()))
}

// grantsOf returns the grants of each principal (lower-case IDs), from
// the cache or, for those it lacks, from the store in one query.
func (s *Service) grantsOf(ctx context.Context, principals []string) (map[string][]grant, error) {
	out := make(map[string][]grant, len(principals))
	var missing []string
	s.mu.RLock()
	epoch := s.epoch
	for _, p := range principals {
		if gs, ok := s.cache[p]; ok {
			out[p] = gs
		} else if !containsString(missing, p) {
			missing = append(missing, p)
		}
	}
	s.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	loaded := make(map[string][]grant, len(missing))
	for _, p := range missing {
		loaded[p] = nil // no assignment is worth remembering too
	}
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		hits, err := tx.Find(KindAssignment, store.Query{Index: byPrincipal, Terms: missing})
		if err != nil {
			return err
		}
		for _, h := range hits {
			var a Assignment
			if err := json.Unmarshal(h.Value, &a); err != nil {
				return err
			}
			g, err := grantOf(a, s.opts.Propagation)
			if err != nil {
				continue // an unreadable assignment grants nothing
			}
			loaded[h.Term] = append(loaded[h.Term], g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	// A write evicted something while this read ran: what was read may be
	// older than the write, so it answers this decision but is not kept.
	if s.epoch == epoch {
		if len(s.cache)+len(loaded) > maxCached {
			s.cache = map[string][]grant{}
		}
		for p, gs := range loaded {
			s.cache[p] = gs
		}
	}
	s.mu.Unlock()
	for p, gs := range loaded {
		out[p] = gs
	}
	return out, nil
}

// evict forgets the cached grants of principals after this Service
// changed their assignments.
func (s *Service) evict(principals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	for _, p := range principals {
		delete(s.cache, strings.ToLower(p))
	}
}

// follow forgets the cache and reloads the custom roles when the store's
// generation is not the one they were read at.
func (s *Service) follow(ctx context.Context) error {
	var gen []byte
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		gen, err = tx.Get(kindMeta, generationKey)
		if errors.Is(err, store.ErrNotFound) {
			gen, err = nil, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	s.mu.RLock()
	same := s.generation == string(gen) && s.loaded
	s.mu.RUnlock()
	if same {
		return nil
	}
	return s.reload(ctx)
}

// reload reads the generation and the custom roles afresh and empties
// the cache.
func (s *Service) reload(ctx context.Context) error {
	roles := make(map[string]*compiledRole, len(s.builtins))
	for _, d := range s.builtins {
		roles[strings.ToLower(d.Name)] = compileRole(d)
	}
	var gen []byte
	err := s.st.View(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		gen, err = tx.Get(kindMeta, generationKey)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		defs, err := store.ListJSON[RoleDefinition](tx, kindDefinition, "")
		for _, d := range defs {
			roles[strings.ToLower(d.Name)] = compileRole(d)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles, s.cache, s.generation, s.loaded = roles, map[string][]grant{}, string(gen), true
	s.epoch++
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
