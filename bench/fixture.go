package main

import (
	"context"
	"fmt"
	"time"

	"github.com/smartlic/smartlic"
)

// The catalogue every scenario uses: one product that may consume three
// unenforced license types, so every usage line counts in its pool and the
// expected in-use numbers follow from what was sent alone.
const productPID = "C9300-24T"

var licenseTypes = []smartlic.LicenseType{
	{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
	{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced},
	{Tag: "dna-advantage", Name: "DNA Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
}

// seedCatalogue creates the license types and the product.
func (s *server) seedCatalogue() error {
	tags := make([]string, len(licenseTypes))
	for i, lt := range licenseTypes {
		if _, err := s.mgr.CreateLicenseType(s.op, lt); err != nil {
			return fmt.Errorf("creating license type %s: %w", lt.Tag, err)
		}
		tags[i] = lt.Tag
	}
	_, err := s.mgr.CreateProduct(s.op, smartlic.Product{PID: productPID, Name: "Catalyst 9300 24-port", LicenseTypes: tags})
	if err != nil {
		return fmt.Errorf("creating product %s: %w", productPID, err)
	}
	return nil
}

// seedAccount creates an active Smart Account.
func (s *server) seedAccount(domain string) (smartlic.SmartAccount, error) {
	sa, err := s.mgr.CreateSmartAccount(s.op, smartlic.SmartAccount{Name: "Bench " + domain, Domain: domain, Status: smartlic.SAActive})
	if err != nil {
		return sa, fmt.Errorf("creating Smart Account %s: %w", domain, err)
	}
	return sa, nil
}

// deposit puts quantity licenses of tag into a VA; subscriptions run two
// years, so no pool is expiring during a run.
func (s *server) deposit(sa, va, tag string, quantity int64) error {
	in := smartlic.DepositInput{OrderNumber: "BENCH-" + tag, License: tag, Quantity: quantity}
	if termOf(tag) == smartlic.TermSubscription {
		end := time.Now().UTC().Add(2 * 365 * smartlic.Day)
		in.EndsAt = &end
	}
	if _, err := s.mgr.CreateDeposit(s.op, sa, va, in); err != nil {
		return fmt.Errorf("depositing %d %s in %s: %w", quantity, tag, va, err)
	}
	return nil
}

func termOf(tag string) smartlic.Term {
	for _, lt := range licenseTypes {
		if lt.Tag == tag {
			return lt.Term
		}
	}
	return ""
}

// token creates a registration token for a VA with no limit on uses, so
// that one token registers every instance of a run.
func (s *server) token(sa, va string) (string, error) {
	t, err := s.mgr.CreateToken(s.op, sa, va, smartlic.TokenInput{Description: "bench", ExpiresInDays: 365})
	if err != nil {
		return "", fmt.Errorf("creating a token in %s: %w", va, err)
	}
	return t.Secret, nil
}

// vaNode is one Virtual Account of a seeded tree.
type vaNode struct {
	name   string
	parent int // index of the parent node, -1 for a top-level VA
}

// vaTree plans n Virtual Accounts: four top-level VAs, and below them each
// VA gets two children in turn (VA-05 and VA-06 under VA-01, VA-07 and
// VA-08 under VA-02, …), so trees nest several levels while depth grows
// only with log2(n) and stays within smartlic.MaxVADepth.
func vaTree(n int) []vaNode {
	const roots = 4
	nodes := make([]vaNode, n)
	for i := range nodes {
		nodes[i] = vaNode{name: fmt.Sprintf("VA-%02d", i+1), parent: -1}
		if i >= roots {
			nodes[i].parent = (i - roots) / 2
		}
	}
	return nodes
}

// subtree returns the indexes of node root and all its descendants.
func subtree(nodes []vaNode, root int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		for j, n := range nodes {
			if n.parent == out[i] {
				out = append(out, j)
			}
		}
	}
	return out
}

// seedVATree creates the planned Virtual Accounts, parents first.
func (s *server) seedVATree(sa string, nodes []vaNode) error {
	for _, n := range nodes {
		in := smartlic.VirtualAccountInput{Name: n.name, Description: "bench"}
		if n.parent >= 0 {
			in.Parent = nodes[n.parent].name
		}
		if _, err := s.mgr.CreateVirtualAccount(s.op, sa, in); err != nil {
			return fmt.Errorf("creating Virtual Account %s: %w", n.name, err)
		}
	}
	return nil
}

// registerDirect registers the devices through the manager in-process, on
// workers goroutines, and verifies each ID certificate (which also gives
// the device its instance id). tokenOf says which token device i uses.
func (s *server) registerDirect(ctx context.Context, devs []*device, workers int, tokenOf func(i int) string) error {
	return parallel(ctx, len(devs), workers, func(i int) error {
		d := devs[i]
		req, err := d.registerRequest(tokenOf(i), time.Now().UTC())
		if err != nil {
			return err
		}
		ans, err := s.mgr.Register(context.Background(), req)
		if err != nil {
			return fmt.Errorf("registering %s: %w", d.udi, err)
		}
		return d.openIDCert(ans, s.keys)
	})
}

// authorizeDirect reports each device's usage through the manager
// in-process. The answers are not opened: nothing in them is used, and the
// pool totals checked afterwards are the proof that usage was counted.
func (s *server) authorizeDirect(ctx context.Context, devs []*device, workers int, usageOf func(i int) []smartlic.Usage) error {
	return parallel(ctx, len(devs), workers, func(i int) error {
		d := devs[i]
		req, err := d.authRequest(time.Now().UTC(), usageOf(i))
		if err != nil {
			return err
		}
		if _, err := s.mgr.Authorize(context.Background(), req); err != nil {
			return fmt.Errorf("authorizing %s: %w", d.udi, err)
		}
		return nil
	})
}
